import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { TEST_JWT_SECRET, startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';

/** The public-key option: tokens signed by an identity provider's private key (RS256). */
describe('bearer tokens verified with a public key', () => {
  let api: ApiHarness;
  let privateKey: CryptoKey;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    privateKey = pair.privateKey;
    api = await startApiOnPostgres({
      auth: {
        publicKeyPem: await exportSPKI(pair.publicKey),
        publicKeyAlgorithm: 'RS256',
        issuer: 'https://idp.example',
      },
    });
  });
  afterAll(() => api.close());

  const sign = (claims: { iss?: string; roles: string[] }, key: CryptoKey | Uint8Array, alg: string) => {
    let jwt = new SignJWT({ roles: claims.roles })
      .setProtectedHeader({ alg })
      .setSubject('idp-user-7')
      .setExpirationTime('5m');
    if (claims.iss) jwt = jwt.setIssuer(claims.iss);
    return jwt.sign(key);
  };
  const define = (token: string) =>
    api
      .http()
      .post('/pipelines')
      .set('Authorization', `Bearer ${token}`)
      .send({ name: 'IdP', stages: [{ name: 'A', probability: 1 }] });

  it('accepts an RS256 token from the configured issuer and records its subject', async () => {
    const response = await define(
      await sign({ iss: 'https://idp.example', roles: ['ops'] }, privateKey, 'RS256'),
    ).expect(201);
    const [event] = await api.streamEvents(response.body.streamId);
    expect(event.metadata.actorId).toBe('idp-user-7');
  });

  it('refuses a token from another issuer', async () => {
    const response = await define(await sign({ iss: 'https://evil.example', roles: ['ops'] }, privateKey, 'RS256'));
    expect(response.status).toBe(401);
  });

  it('refuses an HS256 token even if signed with a known secret (no algorithm confusion)', async () => {
    const response = await define(
      await sign({ iss: 'https://idp.example', roles: ['admin'] }, new TextEncoder().encode(TEST_JWT_SECRET), 'HS256'),
    );
    expect(response.status).toBe(401);
    expect(response.body.code).toBe('unauthorized');
  });
});
