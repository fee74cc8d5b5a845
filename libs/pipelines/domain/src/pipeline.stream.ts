/** Stream names are part of the stored data: changing the prefix orphans every existing pipeline. */
export const PIPELINE_STREAM_PREFIX = 'pipeline-';

/** `pipelineStreamName('0b6f…')` → `'pipeline-0b6f…'` */
export function pipelineStreamName(pipelineId: string): string {
  return `${PIPELINE_STREAM_PREFIX}${pipelineId}`;
}
