import { databaseConfigFromEnv } from '@dealstream/database';
import { createApp } from './bootstrap.js';

const config = databaseConfigFromEnv();
const port = Number(process.env.PORT ?? 3000);
const app = await createApp(config);
await app.listen(port);
const where = config.kind === 'pglite' ? `embedded PGlite in ${config.dataDir}` : 'PostgreSQL (DATABASE_URL)';
console.log(JSON.stringify({ level: 'info', msg: `dealstream listening on http://localhost:${port} — data: ${where}` }));
