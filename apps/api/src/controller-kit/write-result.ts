import type { HttpReply } from './http-exchange.js';
import type { WriteResult } from '@dealstream/command-handling';
import { encodePosition } from '@dealstream/event-store';
import type { WriteResponseDto } from './write-response.dto.js';

/** Sets ETag (and Idempotent-Replayed on a retry) and shapes the body of a successful write. */
export function writeResponse(response: HttpReply, id: string, result: WriteResult): WriteResponseDto {
  response.header('ETag', `"${result.revision}"`);
  if (result.replayed) response.header('Idempotent-Replayed', 'true');
  return {
    id,
    streamId: result.streamId,
    revision: result.revision.toString(),
    position: encodePosition(result.position),
    events: [...result.eventTypes],
  };
}
