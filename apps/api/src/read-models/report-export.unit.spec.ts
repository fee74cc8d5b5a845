import { csvCell, csvLine } from './report-export.js';

describe('CSV cells (RFC 4180, formula-safe)', () => {
  it('quotes what needs quoting and doubles quotes', () => {
    expect(csvLine(['plain', 'a,b', 'say "hi"', 'two\nlines', null, 42, -1.5])).toBe(
      'plain,"a,b","say ""hi""","two\nlines",,42,-1.5\r\n',
    );
  });

  it('makes text that a spreadsheet would read as a formula inert; numbers stay numbers', () => {
    expect(['=SUM(A1)', '+1', '-2', '@cmd', '\tx', '\rx', 'a=b'].map(csvCell)).toEqual([
      "'=SUM(A1)",
      "'+1",
      "'-2",
      "'@cmd",
      "'\tx",
      '"\'\rx"',
      'a=b',
    ]);
    expect(csvCell(-3)).toBe('-3');
    expect(csvCell('=1,2')).toBe('"\'=1,2"');
  });
});
