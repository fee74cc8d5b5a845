import { CopyRows, isoInstant } from './copy-rows.js';

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

  it('writes UTF-8 rows of any size whole, in chunks of whole rows (multi-byte characters included)', () => {
    const rows = Array.from({ length: 30_000 }, (_, i) => [`Négociation 💼 ${i}`, 'x'.repeat(i % 97), i]);
    const expected = rows.map(([a, b, n]) => `${a}\t${b}\t${n}\n`).join('');
    const copied = CopyRows.of(rows);
    expect(copied.chunks.length).toBeGreaterThan(1); // more than one chunk, each of whole rows
    expect(copied.chunks.every((chunk) => chunk.at(-1) === 0x0a)).toBe(true);
    expect(copied.length).toBe(Buffer.byteLength(expected));
    expect(copied.text).toBe(expected);
  });

  it('is empty for no rows', () => {
    expect(CopyRows.of([]).text).toBe('');
  });

  it('writes instants exactly as toISOString does, before the epoch and at the ends of the years 0000–9999 too', () => {
    const instants = [
      0,
      -1,
      Date.UTC(1900, 0, 1, 0, 0, 0, 1),
      Date.UTC(2024, 1, 29, 23, 59, 59, 999),
      Date.UTC(2026, 11, 7, 1, 2, 3, 45),
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
      Date.UTC(0, 0, 1) - 1, // year −1: toISOString's signed form
      Date.UTC(10000, 0, 1), // year 10000: +010000
    ];
    for (let i = 0; i < 5000; i++) instants.push(Math.round((i * 7919 - 1000) * 3_600_000 + i * 37_123));
    for (const ms of instants) expect(isoInstant(new Date(ms))).toBe(new Date(ms).toISOString());
  });
});
