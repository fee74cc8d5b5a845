import { createHash, generateKeyPairSync } from 'node:crypto';
import {
  AnchorFormatError,
  anchorDigest,
  chainAnchorToJson,
  createChainAnchor,
  hasValidAnchorSignature,
  parseChainAnchor,
  signChainAnchor,
  signedAnchorText,
} from './chain-anchor.js';

const h = (c: string) => c.repeat(64);
const heads = [
  { streamId: 'pipeline-1', revision: 3n, hash: h('c') },
  { streamId: 'deal-2', revision: 0n, hash: h('b') },
  { streamId: 'deal-1', revision: 12n, hash: h('a') },
];
const takenAt = new Date('2026-12-03T09:00:00.000Z');

describe('chain anchor format', () => {
  it('sorts heads by stream id, counts events, and digests the RFC 8785 form of [id, revision, hash] triples', () => {
    const anchor = createChainAnchor(heads, takenAt);
    expect(anchor.heads.map((x) => x.streamId)).toEqual(['deal-1', 'deal-2', 'pipeline-1']);
    expect([anchor.streams, anchor.events]).toEqual([3, 18n]); // 13 + 1 + 4
    const form = `[["deal-1","12","${h('a')}"],["deal-2","0","${h('b')}"],["pipeline-1","3","${h('c')}"]]`;
    expect(anchor.digest).toBe(createHash('sha256').update(form).digest('hex'));
    // the digest does not depend on the order heads are given in
    expect(anchorDigest([...heads].reverse())).toBe(anchor.digest);
  });

  it('orders by UTF-16 code units, as RFC 8785 does, not by locale', () => {
    const ids = createChainAnchor(
      [
        { streamId: 'deal-é', revision: 0n, hash: h('a') },
        { streamId: 'deal-z', revision: 0n, hash: h('a') },
        { streamId: 'Deal-a', revision: 0n, hash: h('a') },
      ],
      takenAt,
    );
    expect(ids.heads.map((x) => x.streamId)).toEqual(['Deal-a', 'deal-z', 'deal-é']);
  });

  it('reads back exactly what it wrote', () => {
    const anchor = createChainAnchor(heads, takenAt);
    const json = JSON.stringify(chainAnchorToJson(anchor));
    expect(JSON.parse(json)).toEqual({
      format: 'dealstream.chain-anchor.v1',
      takenAt: '2026-12-03T09:00:00.000Z',
      streams: 3,
      events: '18',
      digest: anchor.digest,
      heads: [
        ['deal-1', '12', h('a')],
        ['deal-2', '0', h('b')],
        ['pipeline-1', '3', h('c')],
      ],
    });
    expect(parseChainAnchor(json)).toEqual(anchor);
  });

  it('signs the format, instant and digest with Ed25519, and a signature survives the JSON round trip', () => {
    const keys = generateKeyPairSync('ed25519');
    const pem = {
      private: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      public: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
    const anchor = signChainAnchor(createChainAnchor(heads, takenAt), pem.private);
    expect(signedAnchorText(anchor)).toBe(`dealstream.chain-anchor.v1\n2026-12-03T09:00:00.000Z\n${anchor.digest}`);
    const back = parseChainAnchor(JSON.stringify(chainAnchorToJson(anchor)));
    expect(back.signature).toBe(anchor.signature);
    expect(hasValidAnchorSignature(back, pem.public)).toBe(true);
    // another instant, other heads (re-digested), another key: each breaks it
    expect(hasValidAnchorSignature({ ...back, takenAt: '2026-12-04T09:00:00.000Z' }, pem.public)).toBe(false);
    expect(
      hasValidAnchorSignature(
        { ...createChainAnchor(heads.slice(1), takenAt), signature: back.signature! },
        pem.public,
      ),
    ).toBe(false);
    expect(
      hasValidAnchorSignature(
        back,
        generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      ),
    ).toBe(false);
    expect(hasValidAnchorSignature(createChainAnchor(heads, takenAt), pem.public)).toBe(false);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    expect(() => signChainAnchor(anchor, rsa)).toThrow('the signing key is rsa, not ed25519');
  });

  const written = () => chainAnchorToJson(createChainAnchor(heads, takenAt)) as unknown as Record<string, any>;
  it.each([
    ['not JSON', () => '{', 'the anchor is not JSON'],
    [
      'another format',
      () => JSON.stringify({ ...written(), format: 'v0' }),
      "the anchor's format is not dealstream.chain-anchor.v1",
    ],
    [
      'a head with a negative revision',
      () => {
        const a = written();
        a.heads[1][1] = '-1';
        return JSON.stringify(a);
      },
      'heads[1] is not [streamId, "revision", hash]',
    ],
    [
      'a head with a short hash',
      () => {
        const a = written();
        a.heads[0][2] = 'abc';
        return JSON.stringify(a);
      },
      'heads[0] is not [streamId, "revision", hash]',
    ],
    [
      'a stream twice',
      () => {
        const a = written();
        a.heads[1][0] = 'deal-1';
        return JSON.stringify(a);
      },
      'stream deal-1 is anchored twice',
    ],
    [
      'a head changed without its digest',
      () => {
        const a = written();
        a.heads[2][1] = '4';
        return JSON.stringify(a);
      },
      /not to the recorded digest [0-9a-f]{64}: the anchor was altered$/,
    ],
    [
      'a head dropped without its digest',
      () => {
        const a = written();
        a.heads.pop();
        return JSON.stringify(a);
      },
      /the anchor was altered$/,
    ],
    [
      'a malformed signature',
      () => JSON.stringify({ ...written(), signature: { alg: 'rsa', value: 'AAAA' } }),
      'signature is not { alg: "ed25519", value: <base64> }',
    ],
    [
      'counts that do not match',
      () => JSON.stringify({ ...written(), events: '19' }),
      'the stream and event counts do not match the heads',
    ],
  ])('refuses %s', (_name, text, message) => {
    expect(() => parseChainAnchor(text())).toThrow(AnchorFormatError);
    expect(() => parseChainAnchor(text())).toThrow(message);
  });
});
