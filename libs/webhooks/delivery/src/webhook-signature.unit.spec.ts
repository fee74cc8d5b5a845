import { newWebhookSecret, secretFingerprint, signWebhook } from './webhook-signature.js';

describe('webhook signature', () => {
  it('matches the Standard Webhooks reference vector', () => {
    // The example of the Standard Webhooks specification and its reference libraries' tests.
    expect(
      signWebhook(
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        'msg_p5jXN8AQM9LWM0D4loKWxJek',
        1614265330,
        '{"test": 2432232314}',
      ),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('makes whsec_ secrets of 32 random bytes and fingerprints that do not reveal them', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(newWebhookSecret()).not.toBe(secret);
    expect(secretFingerprint(secret)).toMatch(/^[0-9a-f]{16}$/);
    expect(secret).not.toContain(secretFingerprint(secret));
  });
});
