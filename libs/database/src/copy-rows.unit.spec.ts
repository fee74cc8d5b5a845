import { CopyRows } from './copy-rows.js';

describe('CopyRows (COPY text format)', () => {
  it('escapes what the format gives meaning to and writes NULL as \\N', () => {
    const rows = CopyRows.of([
      ['tab\there', 'two\nlines\r', 'back\\slash', '\\N', null, undefined],
      [42, 7n, true, new Date('2026-01-02T03:04:05.678Z'), { a: 'x\\y', b: [1] }, ''],
    ]);
    expect(rows.text).toBe(
      'tab\\there\ttwo\\nlines\\r\tback\\\\slash\t\\\\N\t\\N\t\\N\n' +
        '42\t7\ttrue\t2026-01-02T03:04:05.678Z\t{"a":"x\\\\\\\\y","b":[1]}\t\n',
    );
  });

  it('is empty for no rows', () => {
    expect(CopyRows.of([]).text).toBe('');
  });
});
