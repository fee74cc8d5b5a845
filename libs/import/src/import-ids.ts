import { hash as oneShotHash } from 'node:crypto';

/** Namespace of every id an import derives (RFC 9562 v5). Never change it: re-imports would duplicate. */
const IMPORT_NAMESPACE = '8f3c2b7e-51a4-4d0e-9b6a-3c1d2e4f5a60';
const NAMESPACE_BYTES = Buffer.from(IMPORT_NAMESPACE.replaceAll('-', ''), 'hex');
/** The namespace followed by the name, written in place (names longer than it fits get a buffer of their own). */
const scratch = Buffer.alloc(4096);
NAMESPACE_BYTES.copy(scratch);

/** The variant's hex digit (RFC 9562 §4.1: 10xx) for each hex digit the hash has there. */
const VARIANT_DIGIT: Record<string, string> = Object.fromEntries(
  [...'0123456789abcdef'].map((digit) => [digit, '89ab'[parseInt(digit, 16) & 3]]),
);

/**
 * UUID v5 (RFC 9562 §5.5: SHA-1 of namespace and name, version and variant bits set) — what `uuid`'s
 * `v5(name, IMPORT_NAMESPACE)` answers (a unit test holds them equal), without re-parsing the
 * namespace and re-encoding the name by hand on every call: an import derives two ids per event, so
 * the name is written after the namespace bytes in one reused buffer and hashed in one call straight to
 * hex, the version and variant then set in the hex digits. (A hash answered as a Buffer costs ~1.5 µs
 * against ~0.3 µs as hex on Node 20: the Buffer's allocation, not the SHA-1 — 7% of the import
 * worker's CPU, test/benchmarks/README.md "2026-12-07 l".)
 */
function uuidV5(name: string): string {
  let input: Buffer;
  // At most 3 UTF-8 bytes per UTF-16 code unit: a name this short always fits.
  if (name.length <= (scratch.length - 16) / 3) input = scratch.subarray(0, 16 + scratch.write(name, 16, 'utf8'));
  else input = Buffer.concat([NAMESPACE_BYTES, Buffer.from(name, 'utf8')]);
  const hex = oneShotHash('sha1', input, 'hex');
  return (
    `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-` +
    `${VARIANT_DIGIT[hex[16]]}${hex.slice(17, 20)}-${hex.slice(20, 32)}`
  );
}

const SEP = '\u0000';

/**
 * Ids follow from the source's own ids, scoped by the source system, so the same history imported
 * again (or an export overlapping an earlier one) names the same deals, stages and events. The name is
 * the parts joined by U+0000.
 */
export const importIds = {
  pipeline: (sourceSystem: string, pipeline: string) => uuidV5(sourceSystem + SEP + 'pipeline' + SEP + pipeline),
  stage: (sourceSystem: string, pipeline: string, stage: string) =>
    uuidV5(sourceSystem + SEP + 'stage' + SEP + pipeline + SEP + stage),
  deal: (sourceSystem: string, deal: string) => uuidV5(sourceSystem + SEP + 'deal' + SEP + deal),
  /** The n-th event one source record decided (most records decide one). */
  event: (sourceSystem: string, sourceRecordId: string, index: number) =>
    uuidV5(sourceSystem + SEP + 'event' + SEP + sourceRecordId + SEP + String(index)),
  command: (sourceSystem: string, sourceRecordId: string) =>
    uuidV5(sourceSystem + SEP + 'command' + SEP + sourceRecordId),
  activity: (sourceSystem: string, sourceRecordId: string) =>
    uuidV5(sourceSystem + SEP + 'activity' + SEP + sourceRecordId),
};
