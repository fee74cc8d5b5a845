import { MAX_IDEMPOTENCY_KEY_LENGTH, parseIdempotencyKey } from './idempotency-key.js';

describe('parseIdempotencyKey', () => {
  it("reads the draft's Structured Field string and the bare form as the same key", () => {
    expect(parseIdempotencyKey('"8e03978e-40d5-43e8-bc93-6894a57f9324"')).toBe('8e03978e-40d5-43e8-bc93-6894a57f9324');
    expect(parseIdempotencyKey('8e03978e-40d5-43e8-bc93-6894a57f9324')).toBe('8e03978e-40d5-43e8-bc93-6894a57f9324');
    expect(parseIdempotencyKey('"with space, \\"quote\\" and \\\\"')).toBe('with space, "quote" and \\');
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
  });

  it(`accepts 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters after unquoting`, () => {
    expect(parseIdempotencyKey('x')).toBe('x');
    expect(parseIdempotencyKey('x'.repeat(255))).toHaveLength(255);
    expect(parseIdempotencyKey(`"${'x'.repeat(255)}"`)).toHaveLength(255);
  });

  it.each([
    '',
    '""',
    'x'.repeat(256),
    `"${'x'.repeat(256)}"`,
    'a b',
    'a"b',
    '"abc',
    'abc"x',
    '"a\\nb"',
    '"a"b"',
    'é',
    '"é"',
    '"tab\there"',
  ])('refuses %j with 400 invalid-idempotency-key', (header) => {
    expect(() => parseIdempotencyKey(header)).toThrow(
      expect.objectContaining({ status: 400, code: 'invalid-idempotency-key' }),
    );
  });
});
