import { seesIdentitiesInClear } from '@dealstream/auth';
import type { Principal } from './auth.decorators.js';

/**
 * Whether the caller sees real actor and owner ids (permission identities:clear) or their stable
 * pseudonyms. A property of the caller's roles, applied on every route that shows an id: the deal,
 * the board, history, state and diff.
 */
export function seesIdentities(principal: Principal): boolean {
  return seesIdentitiesInClear(principal.roles);
}
