import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  interpolate,
  loadComposeFile,
  servicesInProfile,
  validateComposeFile,
  type ComposeDocument,
} from '../../tools/compose-file.js';

// docker-compose.yml cannot be started on the build machines (no Docker engine), so it is checked
// here: against the Compose specification's JSON schema and for wiring that would stop `up`.
// Fixtures in infra/compose/__fixtures__ prove the check rejects broken files.

const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const COMPOSE_FILE = root('docker-compose.yml');
const fixture = (name: string) => root(`infra/compose/__fixtures__/${name}`);

function compose(env: Record<string, string> = {}): ComposeDocument {
  const { document, problems } = loadComposeFile(COMPOSE_FILE, env);
  expect(problems).toEqual([]);
  return document!;
}

describe('docker-compose.yml', () => {
  it('is valid against the Compose schema and starts in each profile, with and without overrides', () => {
    expect(validateComposeFile(COMPOSE_FILE)).toEqual([]);
    const overrides = {
      AUTH_JWT_SECRET: 's3cret',
      POSTGRES_PASSWORD: 'pw',
      API_PORT: '8080',
      KURRENTDB_IMAGE: 'docker.eventstore.com/eventstore/eventstoredb-ee:24.10',
      KURRENTDB_DATA_DIR: '/var/lib/eventstore',
    };
    expect(validateComposeFile(COMPOSE_FILE, overrides)).toEqual([]);
  });

  it('mounts the event store volume where the chosen image keeps its data, and refuses a mismatch', () => {
    expect(compose().services!.eventstoredb.volumes).toEqual(['eventstoredb-data:/var/lib/kurrentdb']);
    const eventStoreImage = { KURRENTDB_IMAGE: 'docker.eventstore.com/eventstore/eventstoredb-ee:24.10' };
    expect(validateComposeFile(COMPOSE_FILE, eventStoreImage)).toEqual([
      {
        at: 'eventstoredb',
        message:
          'image docker.eventstore.com/eventstore/eventstoredb-ee:24.10 keeps its data in /var/lib/eventstore, but the volume is mounted at /var/lib/kurrentdb (set KURRENTDB_DATA_DIR=/var/lib/eventstore)',
      },
    ]);
    expect(
      compose({ ...eventStoreImage, KURRENTDB_DATA_DIR: '/var/lib/eventstore' }).services!.eventstoredb.volumes,
    ).toEqual(['eventstoredb-data:/var/lib/eventstore']);
  });

  it('documents a start that waits for the server to be healthy (up --wait), in the file and in the docs', () => {
    const text = readFileSync(COMPOSE_FILE, 'utf8');
    expect(text).toContain('docker compose --profile esdb up -d --wait eventstoredb');
    const docs = readFileSync(root('docs/eventstoredb.md'), 'utf8');
    expect(docs).toContain('docker compose --profile esdb up -d --wait eventstoredb');
    expect(docs).not.toMatch(/up -d eventstoredb/);
  });

  it('starts EventStoreDB, PostgreSQL, the api and the projector with profile esdb; PostgreSQL and the api with profile sql', () => {
    const document = compose();
    expect(servicesInProfile(document, 'esdb')).toEqual(['api', 'eventstoredb', 'postgres', 'projector']);
    expect(servicesInProfile(document, 'sql')).toEqual(['api-sql', 'postgres']);
  });

  it('runs an official KurrentDB image, insecure single node, with a health check', () => {
    const { eventstoredb } = compose().services!;
    expect(eventstoredb.image).toBe('docker.kurrent.io/kurrent-latest/kurrentdb:25.1');
    expect(eventstoredb.command).toEqual(expect.arrayContaining(['--insecure', '--cluster-size=1']));
    expect(eventstoredb.ports).toEqual(['2113:2113']);
    expect(eventstoredb.healthcheck).toMatchObject({ test: ['CMD-SHELL', expect.stringContaining('/health/live')] });
  });

  it('runs PostgreSQL 16 with a health check', () => {
    const { postgres } = compose().services!;
    expect(postgres.image).toBe('postgres:16-alpine');
    expect(postgres.healthcheck).toMatchObject({ test: ['CMD-SHELL', expect.stringContaining('pg_isready')] });
  });

  it('wires the api and the projector by environment variables (profile esdb)', () => {
    const { api, projector } = compose({ AUTH_JWT_SECRET: 's3cret' }).services!;
    const shared = {
      DATABASE_URL: 'postgres://postgres:dealstream@postgres:5432/dealstream',
      EVENTSTORE_CONNECTION_STRING: 'esdb://eventstoredb:2113?tls=false',
      AUTH_JWT_SECRET: 's3cret',
    };
    expect(api.environment).toEqual({ ...shared, PORT: '3000', PROJECTIONS: 'external' });
    expect(api.command).toEqual(['node', 'dist/apps/api/src/main.js']);
    expect(api.build).toEqual({ context: '.', dockerfile: 'infra/docker/Dockerfile' });
    expect(projector.environment).toEqual({ ...shared, PORT: '3001' });
    expect(projector.command).toEqual(['node', 'dist/apps/projector/src/main.js']);
    for (const service of [api, projector]) {
      expect(service.depends_on).toEqual({
        postgres: { condition: 'service_healthy' },
        eventstoredb: { condition: 'service_healthy' },
      });
    }
  });

  it('runs projections inside the api and never points it at EventStoreDB (profile sql)', () => {
    const apiSql = compose().services!['api-sql'];
    expect(apiSql.environment).toEqual({
      PORT: '3000',
      DATABASE_URL: 'postgres://postgres:dealstream@postgres:5432/dealstream',
      AUTH_JWT_SECRET: 'dealstream-dev-only-secret-change-me',
    });
    expect(apiSql.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
  });
});

describe('the compose check rejects broken files', () => {
  it('rejects a file that breaks the Compose schema, naming each violation', () => {
    const messages = validateComposeFile(fixture('schema-invalid.compose.yml')).map((p) => `${p.at} ${p.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        '/services/api schema: must NOT have additional properties (imagee)',
        '/services/api/restart schema: must be string',
        '/services/api/healthcheck/interval schema: must match format "duration"',
        '/services/api/depends_on/postgres/condition schema: must be equal to one of the allowed values (service_started, service_healthy, service_completed_successfully)',
      ]),
    );
    expect(messages.some((m) => m.startsWith('/services/api/ports/0'))).toBe(true);
  });

  it('rejects a schema-valid file whose services cannot start', () => {
    const messages = validateComposeFile(fixture('wiring-invalid.compose.yml')).map((p) => `${p.at}: ${p.message}`);
    expect(messages).toEqual([
      'eventstoredb: image docker.kurrent.io/kurrent-latest/kurrentdb:25.1 keeps its data in /var/lib/kurrentdb, and no volume is mounted there: the data dies with the container',
      'api-sql: depends on eventstoredb, which profile sql does not start',
      'api-sql: waits for eventstoredb to be healthy, but eventstoredb has no healthcheck',
      'api-sql: depends on undefined service cache',
      'api-sql: uses volume undeclared-data, which is not declared under volumes',
      expect.stringMatching(/^api-sql: builds from .*no-such\/Dockerfile, which does not exist$/),
    ]);
  });

  it('rejects a file that is not YAML', () => {
    const problems = validateComposeFile(fixture('yaml-invalid.compose.yml'));
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0].message).toMatch(/^YAML: /);
  });
});

describe('port specs (the Compose "ports" format)', () => {
  it('accepts container, host:container, ip:host:container, ranges and protocols; refuses three bare ports', () => {
    const check = (port: string) => {
      const file = join(mkdtempSync(join(tmpdir(), 'compose-')), 'docker-compose.yml');
      writeFileSync(file, `services:\n  a:\n    image: x\n    ports: ["${port}"]\n`);
      return validateComposeFile(file).length === 0;
    };
    for (const valid of [
      '3000',
      '8080:3000',
      '127.0.0.1:8080:3000',
      '[::1]:8080:3000',
      '9000-9005:9000-9005',
      '53:53/udp',
    ])
      expect([valid, check(valid)]).toEqual([valid, true]);
    for (const invalid of ['3000:3000:3000', 'abc', '80:80/http'])
      expect([invalid, check(invalid)]).toEqual([invalid, false]);
  });
});

describe('interpolate (Compose variable syntax)', () => {
  const env = { SET: 'value', EMPTY: '' };

  it('substitutes $VAR and ${VAR}, unset as empty, and $$ as a literal $', () => {
    expect(interpolate('a ${SET} $SET ${UNSET}|$$SET', env)).toEqual({ value: 'a value value |$SET', missing: [] });
  });

  it('applies defaults: :- for unset or empty, - for unset only', () => {
    expect(interpolate('${UNSET:-d} ${EMPTY:-d} ${SET:-d} ${UNSET-d} ${EMPTY-d}', env).value).toBe('d d value d ');
  });

  it('applies alternatives: :+ when set and non-empty, + when set', () => {
    expect(interpolate('${SET:+alt}|${EMPTY:+alt}|${EMPTY+alt}|${UNSET+alt}', env).value).toBe('alt||alt|');
  });

  it('reports required variables that are missing', () => {
    expect(interpolate('${UNSET:?set it} ${EMPTY:?} ${EMPTY?} ${SET:?}', env).missing).toEqual([
      'UNSET (set it)',
      'EMPTY',
    ]);
  });
});
