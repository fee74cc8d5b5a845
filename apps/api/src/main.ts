// First, for its effect: V8's old-generation growth bounded before the modules below load.
import './config/apply-heap-growth.js';
import type { AddressInfo } from 'node:net';
import type { EventStore } from '@dealstream/event-store';
import { loadDemoData } from '@dealstream/seeding';
import { EVENT_STORE } from '@dealstream/command-handling';
import { appConfigFromEnv } from './config/app-config.js';
import { createApp } from './bootstrap.js';
import { SIGN_IN_SUBJECT, SignInCodes } from './console/sign-in-codes.js';

const config = appConfigFromEnv();
let created: Awaited<ReturnType<typeof createApp>>;
try {
  created = await createApp(config);
} catch (error) {
  // e.g. the database did not come up within DB_STARTUP_WAIT_MS: say why, exit non-zero (the orchestrator restarts us).
  process.stderr.write(
    `${JSON.stringify({ time: new Date().toISOString(), service: 'api', level: 'fatal', msg: 'cannot start', error: error instanceof Error ? error.message : String(error) })}\n`,
  );
  process.exit(1);
}
const { app, verificationKey, consoleServed } = created;
if (process.argv.includes('--demo')) {
  const loaded = await loadDemoData(app.get<EventStore>(EVENT_STORE));
  console.log(
    loaded
      ? 'Demo data loaded: pipeline de000000-0000-4000-8000-000000000001 with 8 deals'
      : 'Demo data was already loaded',
  );
}
await app.listen(config.port);

const where =
  config.database.kind === 'pglite' ? `embedded PGlite in ${config.database.dataDir}` : 'PostgreSQL (DATABASE_URL)';
const lines = [
  `dealstream listening on http://localhost:${config.port} (docs: /docs, OpenAPI: /openapi.json) — data: ${where}`,
];
if (verificationKey.kind === 'secret' && verificationKey.source !== 'env') {
  lines.push(
    `No AUTH_JWT_SECRET set: tokens are signed with the secret ${verificationKey.source === 'generated' ? 'just generated in' : 'kept in'} ${config.dataDir}/auth-secret.`,
    'Mint a token:  TOKEN=$(npm run --silent token -- --sub alice --roles sales,ops)',
  );
  // The embedded default only: one person trying it out on their own machine, with a generated secret.
  const signInUrl = consoleServed
    ? app.get(SignInCodes).issue((app.getHttpServer().address() as AddressInfo).port)
    : undefined;
  if (signInUrl)
    lines.push(
      `Web console (signs you in as ${SIGN_IN_SUBJECT}, admin, for 12h; the URL works once, keep it private):`,
      `  ${signInUrl}`,
    );
} else if (consoleServed) {
  lines.push(`Web console: http://localhost:${config.port}/ (sign in with a bearer token)`);
}
for (const line of lines) console.log(line);
