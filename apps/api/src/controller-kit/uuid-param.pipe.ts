import { Injectable, type PipeTransform } from '@nestjs/common';
import { ApiProblem } from '../problem/api-problem.js';

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Path ids are lowercase UUIDs; anything else is a 400 before any lookup. */
@Injectable()
export class UuidParamPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    const id = typeof value === 'string' ? value.toLowerCase() : '';
    if (!UUID_PATTERN.test(id))
      throw new ApiProblem(400, 'invalid-id', `'${String(value).slice(0, 64)}' is not a UUID`);
    return id;
  }
}
