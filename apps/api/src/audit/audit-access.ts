import { GRANTS } from '@dealstream/auth';
import type { Principal } from '../auth/auth.decorators.js';

/** Whether the caller sees real actor and owner ids (audit:identities) or pseudonyms. */
export function seesIdentities(principal: Principal): boolean {
  return principal.roles.some((role) => GRANTS['audit:identities'].includes(role));
}
