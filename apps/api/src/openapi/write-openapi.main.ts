import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import canonicalize from 'canonicalize';
import { createApp } from '../bootstrap.js';
import { appConfigFromEnv } from '../config/app-config.js';
import { buildOpenApiDocument } from './openapi-document.js';

/**
 * `npm run openapi`: writes the OpenAPI document the API serves to docs/openapi.json (the committed
 * contract that clients are generated from and the e2e suites validate against). Builds the app on
 * a throw-away embedded database; nothing listens. Prints the digest a changelog entry names.
 */
const out = process.argv[2] ?? 'docs/openapi.json';
const dataDir = await mkdtemp(join(tmpdir(), 'dealstream-openapi-'));
try {
  const config = appConfigFromEnv({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', PROJECTIONS: 'external' });
  const { app } = await createApp(config);
  try {
    const document = buildOpenApiDocument(app);
    await writeFile(out, `${JSON.stringify(document, null, 2)}\n`);
    // The digest a docs/api-changes.md entry names (RFC 8785 form, so formatting does not count).
    console.log(
      `document ${document.info.version}: sha256 ${createHash('sha256').update(canonicalize(document)!).digest('hex')}`,
    );
  } finally {
    await app.close();
  }
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
console.log(`wrote ${out}`);
