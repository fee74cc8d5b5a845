/** The roles a token may carry in its `roles` claim. */
export const ROLES = ['sales', 'ops', 'analyst', 'auditor', 'admin', 'importer'] as const;
export type Role = (typeof ROLES)[number];

/**
 * The role matrix: every permission, the roles that hold it, and why. It is the one source of
 * truth: the API's guard checks it (through ROUTE_PERMISSIONS), the OpenAPI document states it on
 * every operation, test/e2e/role-matrix.e2e.spec.ts calls every route as every role against it, and
 * the README's role table is `renderRoleMatrix()` (the same test compares them).
 *
 * A token with several roles holds the union of their permissions.
 */
export const PERMISSIONS = {
  'deals:write': {
    roles: ['sales', 'ops', 'admin'],
    why: 'Sales works its deals; ops (sales operations) also reassigns and corrects them.',
  },
  'pipelines:write': {
    roles: ['ops', 'admin'],
    why: 'Stages, probabilities and goals shape every forecast: changed by sales operations only.',
  },
  'deals:read': {
    roles: ['sales', 'ops', 'analyst', 'auditor', 'admin'],
    why: 'A deal and the board are the working view of everyone who works or studies the pipeline; sales works from its board.',
  },
  'metrics:read': {
    roles: ['ops', 'analyst', 'auditor', 'admin'],
    why: "Forecast, funnel and velocity judge the pipeline and the team: analysts study them, ops tunes stages and probabilities with them. Sales has the board, not the team's conversion rates.",
  },
  'stage-maps:write': {
    roles: ['ops', 'analyst', 'admin'],
    why: 'A stage map changes no deal and no forecast, only how reports group stages: analysts define the views they report in; ops too. Reading a map is `metrics:read`, like the reports that use it.',
  },
  'audit:history': {
    roles: ['ops', 'analyst', 'auditor', 'admin'],
    why: 'How deals and pipelines changed. Ops answers "who moved this deal"; analysts study the changes. Sales has none of the audit routes: they expose every principal\'s actions on every deal.',
  },
  'events:read': {
    roles: ['ops', 'auditor', 'admin'],
    why: 'The raw feed carries every identity and is read by backend consumers; redacting it would break them, so analysts do not get it.',
  },
  'audit:verify': {
    roles: ['ops', 'auditor', 'admin'],
    why: "Proving the hash chains intact and taking anchors is the auditors' job and an operational one (ops schedules the anchors); read-only.",
  },
  'imports:write': {
    roles: ['admin', 'importer'],
    why: "A historic import writes back-dated history for many deals at once, under the importer's name with each change's source provenance (docs/import.md): a migration job's role, given to the principal that runs it, not to people who work deals.",
  },
  'metrics:scrape': {
    roles: ['ops', 'admin'],
    why: 'Prometheus metrics (`GET /metrics`) describe the service, not the sales data: operators read them. A scraper that cannot mint JWTs may instead send the static `METRICS_TOKEN`, valid on this route only.',
  },
  'webhooks:admin': {
    roles: ['admin'],
    why: 'A webhook subscription sends every event it matches, identities included, to a URL outside: registering, changing, pausing, resuming (replaying), rotating its secret and deleting one is an administrator’s decision, recorded in the subscription’s own stream.',
  },
  'webhooks:read': {
    roles: ['ops', 'admin'],
    why: 'Operators watch deliveries: subscriptions, their checkpoints and failures, every attempt and each subscription’s history. Never the secret, which is shown once, to the admin who registered it.',
  },
  'identities:clear': {
    roles: ['sales', 'ops', 'auditor', 'admin'],
    why: 'Not a route: whether owner and actor ids are shown as they are. Without it (analysts) every owner and actor id on every route (deal, board, history, state, diff) is a stable pseudonym `anon-…`, the same on every route, so analysts can still group by owner. Sales and ops work with the people they see on the board; auditors need the full record.',
  },
} as const satisfies Record<string, { roles: readonly Role[]; why: string }>;

export type Permission = keyof typeof PERMISSIONS;

/** Who holds each permission (PERMISSIONS without the reasons). */
export const GRANTS: Record<Permission, readonly Role[]> = Object.fromEntries(
  Object.entries(PERMISSIONS).map(([permission, { roles }]) => [permission, roles]),
) as unknown as Record<Permission, readonly Role[]>;

/**
 * Every route that needs a token, as `METHOD /path` with Express-style parameters, and the one
 * permission it needs. A route missing here is refused to every role (the guard fails closed).
 * Routes marked public in the app (health, the OpenAPI document) need no token.
 */
export const ROUTE_PERMISSIONS = {
  'POST /pipelines': 'pipelines:write',
  'POST /pipelines/:id/stages': 'pipelines:write',
  'PATCH /pipelines/:id/stages/:stageId': 'pipelines:write',
  'POST /pipelines/:id/stages/reorder': 'pipelines:write',
  'DELETE /pipelines/:id/stages/:stageId': 'pipelines:write',
  'POST /pipelines/:id/archive': 'pipelines:write',
  'POST /deals': 'deals:write',
  'PATCH /deals/:id': 'deals:write',
  'POST /deals/:id/qualify': 'deals:write',
  'POST /deals/:id/disqualify': 'deals:write',
  'POST /deals/:id/stage': 'deals:write',
  'POST /deals/:id/activities': 'deals:write',
  'POST /deals/:id/win': 'deals:write',
  'POST /deals/:id/lose': 'deals:write',
  'POST /deals/:id/reopen': 'deals:write',
  'POST /deals/:id/upsell': 'deals:write',
  'POST /deals/:id/cross-sell': 'deals:write',
  'GET /pipelines': 'deals:read',
  'GET /deals/:id': 'deals:read',
  'GET /pipelines/:id/board': 'deals:read',
  'GET /pipelines/:id/metrics/pipeline': 'metrics:read',
  'GET /pipelines/:id/metrics/funnel': 'metrics:read',
  'POST /pipelines/:id/metrics/funnel/query': 'metrics:read',
  'GET /pipelines/:id/metrics/velocity': 'metrics:read',
  'GET /pipelines/:id/metrics/funnel/series': 'metrics:read',
  'GET /pipelines/:id/metrics/velocity/series': 'metrics:read',
  'GET /pipelines/:id/metrics/pipeline/series': 'metrics:read',
  'GET /stage-maps/:id': 'metrics:read',
  'POST /pipelines/:id/stage-maps': 'stage-maps:write',
  'PUT /stage-maps/:id': 'stage-maps:write',
  'DELETE /stage-maps/:id': 'stage-maps:write',
  'GET /deals/:id/history': 'audit:history',
  'GET /deals/:id/state': 'audit:history',
  'GET /deals/:id/diff': 'audit:history',
  'GET /pipelines/:id/history': 'audit:history',
  'GET /pipelines/:id/state': 'audit:history',
  'GET /pipelines/:id/diff': 'audit:history',
  'GET /events': 'events:read',
  'GET /events/stream': 'events:read',
  'GET /audit/verify': 'audit:verify',
  'GET /audit/anchor': 'audit:verify',
  'POST /imports': 'imports:write',
  'GET /imports/:id': 'imports:write',
  'GET /metrics': 'metrics:scrape',
  'POST /webhooks': 'webhooks:admin',
  'PATCH /webhooks/:id': 'webhooks:admin',
  'POST /webhooks/:id/pause': 'webhooks:admin',
  'POST /webhooks/:id/resume': 'webhooks:admin',
  'POST /webhooks/:id/rotate-secret': 'webhooks:admin',
  'DELETE /webhooks/:id': 'webhooks:admin',
  'GET /webhooks': 'webhooks:read',
  'GET /webhooks/:id': 'webhooks:read',
  'GET /webhooks/:id/attempts': 'webhooks:read',
  'GET /webhooks/:id/history': 'webhooks:read',
} as const satisfies Record<string, Exclude<Permission, 'identities:clear'>>;

export type RouteKey = keyof typeof ROUTE_PERMISSIONS;

/**
 * The permission `METHOD /path` needs, or undefined for a route the matrix does not know. HEAD is
 * answered by the GET route (Express does), so it needs what GET needs.
 */
export function permissionOfRoute(method: string, path: string): Permission | undefined {
  const verb = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  return (ROUTE_PERMISSIONS as Record<string, Permission>)[`${verb} ${path}`];
}

/** Whether a principal with these roles sees owner and actor ids in clear (else pseudonyms). */
export function seesIdentitiesInClear(roles: readonly Role[]): boolean {
  return roles.some((role) => GRANTS['identities:clear'].includes(role));
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/**
 * The README's role table, generated: one row per permission with its routes, a column per role,
 * then the reasons. test/e2e/role-matrix.e2e.spec.ts fails when the README differs from it.
 */
export function renderRoleMatrix(): string {
  const header = `| permission | routes | ${ROLES.map((role) => `\`${role}\``).join(' | ')} |`;
  const rule = `|---|---|${ROLES.map(() => ':-:').join('|')}|`;
  const rows = (Object.keys(PERMISSIONS) as Permission[]).map((permission) => {
    const routes = Object.entries(ROUTE_PERMISSIONS)
      .filter(([, needed]) => needed === permission)
      .map(([route]) => `\`${route}\``);
    const where = routes.length ? routes.join(', ') : 'owner and actor ids in clear on every route';
    const cells = ROLES.map((role) =>
      GRANTS[permission].includes(role) ? '✓' : permission === 'identities:clear' ? 'pseudonyms' : '—',
    );
    return `| \`${permission}\` | ${where} | ${cells.join(' | ')} |`;
  });
  const reasons = (Object.keys(PERMISSIONS) as Permission[]).map(
    (permission) => `- \`${permission}\`: ${PERMISSIONS[permission].why}`,
  );
  return [header, rule, ...rows, '', ...reasons].join('\n');
}
