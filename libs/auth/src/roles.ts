/** The roles a token may carry in its `roles` claim. */
export const ROLES = ['sales', 'ops', 'analyst', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** What a route needs; each maps to the roles that grant it (one table, documented in the README). */
export type Permission = 'deals:write' | 'pipelines:write' | 'read';

export const GRANTS: Record<Permission, readonly Role[]> = {
  'deals:write': ['sales', 'ops', 'admin'],
  'pipelines:write': ['ops', 'admin'],
  read: ['sales', 'ops', 'analyst', 'auditor', 'admin'],
};

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
