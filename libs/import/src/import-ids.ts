import { createHash } from 'node:crypto';

/** Namespace of every id an import derives (RFC 9562 v5). Never change it: re-imports would duplicate. */
const IMPORT_NAMESPACE = '8f3c2b7e-51a4-4d0e-9b6a-3c1d2e4f5a60';
const NAMESPACE_BYTES = Buffer.from(IMPORT_NAMESPACE.replaceAll('-', ''), 'hex');

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/**
 * UUID v5 (RFC 9562 §5.5: SHA-1 of namespace and name, version and variant bits set) — what `uuid`'s
 * `v5(name, IMPORT_NAMESPACE)` answers (a unit test holds them equal), without re-parsing the
 * namespace and re-encoding the name by hand on every call: an import derives two ids per event.
 */
function uuidV5(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE_BYTES).update(name, 'utf8').digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  let id = '';
  for (let i = 0; i < 16; i++) {
    id += HEX[hash[i]];
    if (i === 3 || i === 5 || i === 7 || i === 9) id += '-';
  }
  return id;
}

const derive = (...parts: (string | number)[]) => uuidV5(parts.map(String).join('\u0000'));

/**
 * Ids follow from the source's own ids, scoped by the source system, so the same history imported
 * again (or an export overlapping an earlier one) names the same deals, stages and events.
 */
export const importIds = {
  pipeline: (sourceSystem: string, pipeline: string) => derive(sourceSystem, 'pipeline', pipeline),
  stage: (sourceSystem: string, pipeline: string, stage: string) => derive(sourceSystem, 'stage', pipeline, stage),
  deal: (sourceSystem: string, deal: string) => derive(sourceSystem, 'deal', deal),
  /** The n-th event one source record decided (most records decide one). */
  event: (sourceSystem: string, sourceRecordId: string, index: number) =>
    derive(sourceSystem, 'event', sourceRecordId, index),
  command: (sourceSystem: string, sourceRecordId: string) => derive(sourceSystem, 'command', sourceRecordId),
  activity: (sourceSystem: string, sourceRecordId: string) => derive(sourceSystem, 'activity', sourceRecordId),
};
