import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import canonicalize from 'canonicalize';

/**
 * A chain anchor: every stream's head (revision and hash of its last event) at one moment, with a
 * digest over them. Kept outside the database (WORM storage, a ticket, a signed email), it closes
 * the gap a keyless hash chain leaves open: whoever can write the tables can rewrite a stream
 * consistently and re-hash it, but cannot make an event anchored at revision r hash to the anchored
 * value again. Because each hash covers its predecessor's, a matching head certifies revisions 0…r.
 * docs/audit.md defines the format.
 */
export const ANCHOR_FORMAT = 'dealstream.chain-anchor.v1';

export interface AnchoredHead {
  readonly streamId: string;
  readonly revision: bigint;
  readonly hash: string;
}

export interface ChainAnchor {
  readonly format: typeof ANCHOR_FORMAT;
  /** When the heads were read (ISO-8601 UTC). */
  readonly takenAt: string;
  readonly streams: number;
  /** Events certified: Σ (head revision + 1). */
  readonly events: bigint;
  /** Hex SHA-256 of the heads' canonical form (`anchorDigest`): short enough to publish elsewhere. */
  readonly digest: string;
  /** Sorted by stream id (UTF-16 code units). */
  readonly heads: readonly AnchoredHead[];
  /** Ed25519 signature (base64) of `signedAnchorText`, by a key the database's writers do not hold. */
  readonly signature?: string;
}

/** The anchor as JSON: revisions and counts as decimal strings, heads as `[streamId, revision, hash]`. */
export interface ChainAnchorJson {
  readonly format: string;
  readonly takenAt: string;
  readonly streams: number;
  readonly events: string;
  readonly digest: string;
  readonly heads: [string, string, string][];
  readonly signature?: { readonly alg: 'ed25519'; readonly value: string };
}

export class AnchorFormatError extends Error {}

const byStreamId = (a: AnchoredHead, b: AnchoredHead) =>
  a.streamId < b.streamId ? -1 : a.streamId > b.streamId ? 1 : 0;

/** SHA-256 of the RFC 8785 (JCS) form of `[[streamId, "revision", hash], …]` in stream-id order. */
export function anchorDigest(heads: readonly AnchoredHead[]): string {
  const form = canonicalize([...heads].sort(byStreamId).map((h) => [h.streamId, h.revision.toString(), h.hash]));
  return createHash('sha256').update(form!, 'utf8').digest('hex');
}

export function createChainAnchor(heads: readonly AnchoredHead[], takenAt: Date): ChainAnchor {
  const sorted = [...heads].sort(byStreamId);
  return {
    format: ANCHOR_FORMAT,
    takenAt: takenAt.toISOString(),
    streams: sorted.length,
    events: sorted.reduce((n, h) => n + h.revision + 1n, 0n),
    digest: anchorDigest(sorted),
    heads: sorted,
  };
}

export function chainAnchorToJson(anchor: ChainAnchor): ChainAnchorJson {
  return {
    format: anchor.format,
    takenAt: anchor.takenAt,
    streams: anchor.streams,
    events: anchor.events.toString(),
    digest: anchor.digest,
    heads: anchor.heads.map((h) => [h.streamId, h.revision.toString(), h.hash]),
    ...(anchor.signature !== undefined ? { signature: { alg: 'ed25519' as const, value: anchor.signature } } : {}),
  };
}

/** What a signature covers: the format, the instant and the digest (which covers every head). */
export function signedAnchorText(anchor: Pick<ChainAnchor, 'format' | 'takenAt' | 'digest'>): string {
  return `${anchor.format}\n${anchor.takenAt}\n${anchor.digest}`;
}

/** Reads an Ed25519 private key (PEM); throws when it is not one. */
export function parseSigningKey(privateKeyPem: string): KeyObject {
  const key = createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== 'ed25519')
    throw new AnchorFormatError(`the signing key is ${key.asymmetricKeyType}, not ed25519`);
  return key;
}

/** Signs the anchor with an Ed25519 private key (PEM). */
export function signChainAnchor(anchor: ChainAnchor, privateKeyPem: string): ChainAnchor {
  const key = parseSigningKey(privateKeyPem);
  return { ...anchor, signature: sign(null, Buffer.from(signedAnchorText(anchor), 'utf8'), key).toString('base64') };
}

/** True when the anchor carries a valid Ed25519 signature by the public key (PEM). */
export function hasValidAnchorSignature(anchor: ChainAnchor, publicKeyPem: string): boolean {
  const key = createPublicKey(publicKeyPem);
  if (key.asymmetricKeyType !== 'ed25519')
    throw new AnchorFormatError(`the public key is ${key.asymmetricKeyType}, not ed25519`);
  if (anchor.signature === undefined) return false;
  return verify(null, Buffer.from(signedAnchorText(anchor), 'utf8'), key, Buffer.from(anchor.signature, 'base64'));
}

/**
 * Reads an anchor back and checks it is what `createChainAnchor` wrote: the format, every head well
 * formed and once, the counts, and the digest recomputed from the heads — so an anchor file edited
 * after the fact is refused (compare its digest with the one you published to trust it at all).
 */
export function parseChainAnchor(text: string): ChainAnchor {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AnchorFormatError('the anchor is not JSON');
  }
  const raw = json as Partial<ChainAnchorJson> | null;
  if (typeof raw !== 'object' || raw === null || raw.format !== ANCHOR_FORMAT) {
    throw new AnchorFormatError(`the anchor's format is not ${ANCHOR_FORMAT}`);
  }
  if (typeof raw.takenAt !== 'string' || Number.isNaN(Date.parse(raw.takenAt)))
    throw new AnchorFormatError('takenAt is not an instant');
  if (typeof raw.digest !== 'string' || !/^[0-9a-f]{64}$/.test(raw.digest))
    throw new AnchorFormatError('digest is not a hex SHA-256');
  if (!Array.isArray(raw.heads)) throw new AnchorFormatError('heads is not a list');
  const seen = new Set<string>();
  const heads = raw.heads.map((head, index): AnchoredHead => {
    const [streamId, revision, hash] = Array.isArray(head) && head.length === 3 ? head : [];
    if (
      typeof streamId !== 'string' ||
      streamId.length === 0 ||
      typeof revision !== 'string' ||
      !/^(0|[1-9][0-9]{0,18})$/.test(revision) ||
      typeof hash !== 'string' ||
      !/^[0-9a-f]{64}$/.test(hash)
    ) {
      throw new AnchorFormatError(`heads[${index}] is not [streamId, "revision", hash]`);
    }
    if (seen.has(streamId)) throw new AnchorFormatError(`stream ${streamId} is anchored twice`);
    seen.add(streamId);
    return { streamId, revision: BigInt(revision), hash };
  });
  const anchor = createChainAnchor(heads, new Date(raw.takenAt));
  if (anchor.digest !== raw.digest) {
    throw new AnchorFormatError(
      `the heads hash to ${anchor.digest}, not to the recorded digest ${raw.digest}: the anchor was altered`,
    );
  }
  if (raw.streams !== anchor.streams || raw.events !== anchor.events.toString()) {
    throw new AnchorFormatError('the stream and event counts do not match the heads');
  }
  let signature: string | undefined;
  if (raw.signature !== undefined) {
    if (
      typeof raw.signature !== 'object' ||
      raw.signature === null ||
      raw.signature.alg !== 'ed25519' ||
      typeof raw.signature.value !== 'string' ||
      !/^[A-Za-z0-9+/]+={0,2}$/.test(raw.signature.value)
    ) {
      throw new AnchorFormatError('signature is not { alg: "ed25519", value: <base64> }');
    }
    signature = raw.signature.value;
  }
  return { ...anchor, takenAt: raw.takenAt, ...(signature !== undefined ? { signature } : {}) };
}
