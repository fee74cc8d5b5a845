/** Stream names are part of the stored data: changing the prefix orphans every existing map. */
export const STAGE_MAP_STREAM_PREFIX = 'stagemap-';

/** `stageMapStreamName('0b6f…')` → `'stagemap-0b6f…'` */
export function stageMapStreamName(stageMapId: string): string {
  return `${STAGE_MAP_STREAM_PREFIX}${stageMapId}`;
}
