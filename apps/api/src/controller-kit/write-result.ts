import type { Response } from 'express';
import type { WriteResult } from '@dealstream/command-handling';
import { encodePosition } from '@dealstream/event-store';
import type { WriteResponseDto } from './write-response.dto.js';

/** Sets ETag (and Idempotent-Replayed on a retry) and shapes the body of a successful write. */
export function writeResponse(response: Response, id: string, result: WriteResult): WriteResponseDto {
  response.setHeader('ETag', `"${result.revision}"`);
  if (result.replayed) response.setHeader('Idempotent-Replayed', 'true');
  return {
    id,
    streamId: result.streamId,
    revision: result.revision.toString(),
    position: encodePosition(result.position),
    events: [...result.eventTypes],
  };
}
