import { MAX_CLIENT_POSITION_PART, encodePosition, parseClientPosition } from './global-position.js';

describe('parseClientPosition: cursors a client may send back', () => {
  it('accepts what encodePosition makes, up to 2^63 − 1 in each part', () => {
    for (const position of [
      { major: 0n, minor: 0n },
      { major: 0x2f1n, minor: 0x17n },
      { major: MAX_CLIENT_POSITION_PART, minor: MAX_CLIENT_POSITION_PART },
    ]) {
      expect(parseClientPosition(encodePosition(position))).toEqual(position);
    }
  });

  it.each([
    '8000000000000000-0000000000000000',
    '0000000000000001-8000000000000000',
    'ffffffffffffffff-ffffffffffffffff',
    '7FFFFFFFFFFFFFFF-0000000000000000',
    '0-0',
    '',
    ' 0000000000000000-0000000000000000',
  ])('refuses %j', (cursor) => {
    expect(parseClientPosition(cursor)).toBeUndefined();
  });

  it('refuses what is not a string', () => {
    for (const value of [undefined, null, 1, ['0000000000000000-0000000000000000']])
      expect(parseClientPosition(value)).toBeUndefined();
  });
});
