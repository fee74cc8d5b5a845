import { createHmac } from 'node:crypto';
import { DEAL_AUDIT } from '../audited-aggregates/deal-audit.aggregate.js';
import { Pseudonymizer } from './pseudonymizer.js';
import { redactEventData, redactFieldValue } from './redaction.js';

const key = Buffer.alloc(32, 7);

describe('Pseudonymizer', () => {
  it('is HMAC-SHA256 of the id under the key, stable, and different per id and per key', () => {
    const p = new Pseudonymizer(key);
    const expected = `anon-${createHmac('sha256', key).update('alice').digest('hex').slice(0, 16)}`;
    expect(p.pseudonym('alice')).toBe(expected);
    expect(p.pseudonym('alice')).toBe(expected);
    expect(p.pseudonym('bob')).not.toBe(expected);
    expect(new Pseudonymizer(Buffer.alloc(32, 8)).pseudonym('alice')).not.toBe(expected);
    expect(expected).toMatch(/^anon-[0-9a-f]{16}$/);
  });

  it('refuses a short key', () => {
    expect(() => new Pseudonymizer(Buffer.alloc(8))).toThrow(RangeError);
  });

  it("replaces a deal's owner fields in event data and in the diff, nothing else", () => {
    const p = new Pseudonymizer(key);
    expect(redactEventData(DEAL_AUDIT, 'DealOwnerReassigned', { ownerId: 'bob', previousOwnerId: 'alice' }, p)).toEqual(
      {
        ownerId: p.pseudonym('bob'),
        previousOwnerId: p.pseudonym('alice'),
      },
    );
    expect(redactEventData(DEAL_AUDIT, 'DealLost', { reason: 'price' }, p)).toEqual({ reason: 'price' });
    expect(redactFieldValue(DEAL_AUDIT, 'ownerId', 'bob', p)).toBe(p.pseudonym('bob'));
    expect(redactFieldValue(DEAL_AUDIT, 'amount', 5, p)).toBe(5);
  });
});
