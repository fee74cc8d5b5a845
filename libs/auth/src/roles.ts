/** The roles a token may carry in its `roles` claim. */
export const ROLES = ['sales', 'ops', 'analyst', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** What a route needs; each maps to the roles that grant it (one table, documented in the README). */
export type Permission =
  | 'deals:write'
  | 'pipelines:write'
  | 'read'
  // Audit (docs/audit.md): history, state and diff of deals and pipelines; identities in them;
  // the global event feed; hash-chain verification.
  | 'audit:history'
  | 'audit:identities'
  | 'events:read'
  | 'audit:verify';

export const GRANTS: Record<Permission, readonly Role[]> = {
  'deals:write': ['sales', 'ops', 'admin'],
  'pipelines:write': ['ops', 'admin'],
  read: ['sales', 'ops', 'analyst', 'auditor', 'admin'],
  // Analysts read history without identities (pseudonyms); sales works from the board, not the audit trail.
  'audit:history': ['analyst', 'auditor', 'ops', 'admin'],
  'audit:identities': ['auditor', 'ops', 'admin'],
  'events:read': ['auditor', 'ops', 'admin'],
  'audit:verify': ['auditor', 'ops', 'admin'],
};

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
