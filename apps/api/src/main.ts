import { appConfigFromEnv } from './config/app-config.js';
import { createApp } from './bootstrap.js';

const config = appConfigFromEnv();
const { app, verificationKey } = await createApp(config);
await app.listen(config.port);

const where = config.database.kind === 'pglite' ? `embedded PGlite in ${config.database.dataDir}` : 'PostgreSQL (DATABASE_URL)';
const lines = [`dealstream listening on http://localhost:${config.port} (docs: /docs, OpenAPI: /openapi.json) — data: ${where}`];
if (verificationKey.kind === 'secret' && verificationKey.source !== 'env') {
  lines.push(
    `No AUTH_JWT_SECRET set: tokens are signed with the secret ${verificationKey.source === 'generated' ? 'just generated in' : 'kept in'} ${config.dataDir}/auth-secret.`,
    'Mint a token:  npm run token -- --sub alice --roles sales,ops',
  );
}
for (const line of lines) console.log(line);
