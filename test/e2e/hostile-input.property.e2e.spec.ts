import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';
import { appConfigFromEnv } from '../../apps/api/src/config/app-config.js';

/**
 * Hostile values for EVERY route of the OpenAPI document. The document is the one SwaggerModule
 * builds for the real app (served at /openapi.json); every path × method is exercised. Each case
 * starts from a plausible request (valid path ids of a real pipeline, stage and deal; body and query
 * built from the schemas) and replaces ONE thing — a path id, a query parameter, a header, a body
 * field at any depth, or the whole body — with a hostile value: wrong types, ±2^63 and other
 * extremes, -0, NaN/Infinity strings, NUL, control characters, lone surrogates, deep nesting,
 * overlong strings, impossible dates and zones. Asserted for every case: never a 5xx (one documented
 * exception below), every 4xx is application/problem+json, and a refused request writes no event.
 *
 * Runs on PostgreSQL (the shared e2e harness, a database of its own): the refusals being proven are
 * PostgreSQL's (date, bigint, uuid, NUL in text/jsonb) and the `sql` profile is the one teams run;
 * PGlite embeds the same engine, so the same values fail the same way there.
 */
const RUNS = Number(process.env.HOSTILE_RUNS ?? 2000);
const SEED = Number(process.env.HOSTILE_SEED ?? 20261203);

type Schema = {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  example?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  nullable?: boolean;
  oneOf?: Schema[];
  allOf?: Schema[];
  anyOf?: Schema[];
};
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema?: Schema;
}
interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  body?: Schema;
}

/** Where a hostile value goes. */
type Target =
  { kind: 'path' | 'query' | 'header'; name: string } | { kind: 'body'; at: string[] } | { kind: 'whole-body' };

const LONE = ['\ud800', '\udbff', '\udc00', '\udfff', 'a\ud83d', '\ude80b'];
const CONTROL = [
  '\u0000',
  'a\u0000b',
  '\u0001',
  '\u0007',
  '\b',
  '\u000b',
  '\f',
  '\u001b[2J',
  '\u007f',
  '\u0085',
  '\u009f',
  '\u2028',
  '\ufeff',
  '\ufffe',
];
const BAD_DATES = [
  '0000-01-01',
  '1899-12-31',
  '10000-01-01',
  '-000001-01-01',
  '2026-02-30',
  '2026-13-01',
  '2026-00-10',
  '2026-1-1',
  '20260101',
  '2026-12-31T00:00:00Z',
  '9999-12-31',
  '1900-01-01',
  '+002026-01-01',
];
const BAD_INSTANTS = [
  '0000-01-01T00:00:00Z',
  '1899-12-31T23:59:59.999Z',
  '1900-01-01T00:00:00+01:00',
  '10000-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999-01:00',
  '2026-01-01T00:00:00',
  '2026-01-01T24:00:00Z',
  '2026-02-30T00:00:00Z',
  '2026-01-01T00:00:60Z',
  '2026-01-01T00:00:00+24:00',
  '2026-01-01T00:00:00+14:00',
  '2026-01-01T00:00:00-12:00',
  '2026-01-01T00:00:00+99:99',
  '2026-01-01T00:00:00.123456789Z',
  '2026-01-01T00:00:00.Z',
  '2026-01-01 00:00:00Z',
  '2026-01-01',
  '1700000000000',
  'now',
  '-271821-04-20T00:00:00Z',
  '+275760-09-13T00:00:00Z',
];
const NUMBERISH = [
  'NaN',
  'Infinity',
  '-Infinity',
  '-0',
  '0x10',
  '1e3',
  '1e400',
  ' 5',
  '5 ',
  '+5',
  '-1',
  '00',
  '9223372036854775807',
  '9223372036854775808',
  '-9223372036854775808',
  '18446744073709551616',
  '99999999999999999999999',
  '9007199254740993',
  '1.5',
  '',
];
const CURSORS = [
  '7fffffffffffffff-7fffffffffffffff',
  '8000000000000000-0000000000000000',
  '0000000000000000-8000000000000000',
  'ffffffffffffffff-ffffffffffffffff',
  '0000000000000000-000000000000000g',
  '0-0',
  'x'.repeat(33),
];

/** Deep nesting, written straight as JSON text (JSON.stringify and fast-check's reporter would recurse through it). */
class Deep {
  constructor(
    readonly depth: number,
    readonly leaf: unknown = 1,
  ) {}
  json(): string {
    const levels = Array.from({ length: this.depth }, (_, i) => i);
    return `${levels
      .reverse()
      .map((i) => (i % 2 === 0 ? '[' : '{"a":'))
      .join('')}${JSON.stringify(this.leaf)}${levels
      .reverse()
      .map((i) => (i % 2 === 0 ? ']' : '}'))
      .join('')}`;
  }
  toString(): string {
    return `Deep(${this.depth})`;
  }
}

/** JSON text of a case's value: -0 stays -0, Deep stays deep. */
const toJson = (value: unknown): string => {
  if (value instanceof Deep) return value.json();
  if (Object.is(value, -0)) return '-0';
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.entries(value)
      .map(([key, item]) => `${JSON.stringify(key)}:${toJson(item)}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
};

const hostileString = fc.oneof(
  fc.constantFrom(...LONE, ...CONTROL, ...BAD_DATES, ...BAD_INSTANTS, ...NUMBERISH, ...CURSORS),
  fc.constantFrom(
    'x'.repeat(201),
    'x'.repeat(2001),
    'x'.repeat(20_000),
    '🚀'.repeat(150),
    ' ',
    '   ',
    '\t',
    'ZZZ',
    'eur',
    'XTS',
    'null',
    'true',
    '[]',
    '{}',
    '"3"',
    '%00',
    '%ED%A0%80',
    '../../etc/passwd',
    "'; drop table events; --",
    '<script>',
    '\\u0000',
  ),
  fc
    .tuple(fc.string({ maxLength: 20 }), fc.constantFrom(...LONE, ...CONTROL), fc.string({ maxLength: 20 }))
    .map(([a, b, c]) => a + b + c),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.uuid().map((u) => u.toUpperCase()),
  fc.uuid(),
);
const hostileNumber = fc.oneof(
  fc.constantFrom(
    2 ** 63,
    -(2 ** 63),
    2 ** 64,
    2 ** 53,
    2 ** 53 + 2,
    -(2 ** 53),
    1e12 + 1,
    1e12,
    1e308,
    -1e308,
    Number.MIN_VALUE,
    -0,
    0.5,
    -1,
    2 ** 31,
    2 ** 31 - 1,
    -(2 ** 31),
    3651,
    101,
    30,
    31,
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: hostileString },
  { weight: 3, arbitrary: hostileNumber },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      null,
      true,
      false,
      [],
      {},
      [null],
      { $ref: '#' },
      { __proto__: { admin: true } },
      { constructor: { prototype: {} } },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      new Deep(33),
      new Deep(40, 'x'),
      new Deep(5000),
      new Deep(31, '\u0000'),
      new Deep(12_000),
    ),
  },
  { weight: 1, arbitrary: fc.array(hostileString, { maxLength: 40 }) },
);

describe('hostile input derived from the OpenAPI document, for every route', () => {
  let api: ApiHarness;
  let admin: string;
  let operations: Operation[];
  let schemas: Record<string, Schema>;
  const ids = {
    pipeline: '',
    archivable: '',
    stages: [randomUUID(), randomUUID(), randomUUID()],
    deal: '',
    wonDeal: '',
  };

  beforeAll(async () => {
    // A short read wait: a well-formed minPosition beyond the head would otherwise hold each case 5 s.
    // A short stream lifetime: a hostile value that is valid after all opens GET /events/stream, which
    // would otherwise stream for an hour.
    api = await startApiOnPostgres({
      readWaitMs: 100,
      eventStream: { ...appConfigFromEnv({}).eventStream, maxLifetimeMs: 200 },
    });
    admin = `Bearer ${await api.token(['admin'])}`;
    const post = (path: string, body: object) => api.http().post(path).set('Authorization', admin).send(body);
    ids.pipeline = (
      await post('/pipelines', {
        name: 'Main',
        currency: 'EUR',
        stages: ids.stages.map((stageId, i) => ({ stageId, name: `S${i}`, probability: 20 * (i + 1) })),
      }).expect(201)
    ).body.id;
    ids.archivable = (
      await post('/pipelines', { name: 'Spare', stages: [{ name: 'A', probability: 5 }] }).expect(201)
    ).body.id;
    ids.deal = (
      await post('/deals', {
        pipelineId: ids.pipeline,
        title: 'Open',
        account: 'ACME',
        amount: 1000,
        currency: 'EUR',
      }).expect(201)
    ).body.id;
    ids.wonDeal = (
      await post('/deals', {
        pipelineId: ids.pipeline,
        title: 'Won',
        account: 'ACME',
        amount: 1000,
        currency: 'EUR',
      }).expect(201)
    ).body.id;
    await post(`/deals/${ids.wonDeal}/win`, {}).expect(200);

    const document = (await api.http().get('/openapi.json').expect(200)).body as {
      paths: Record<
        string,
        Record<string, { parameters?: Parameter[]; requestBody?: { content?: Record<string, { schema?: Schema }> } }>
      >;
      components?: { schemas?: Record<string, Schema> };
    };
    schemas = document.components?.schemas ?? {};
    operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([method]) => ['get', 'post', 'patch', 'put', 'delete'].includes(method))
        .map(([method, op]) => ({
          method,
          path,
          parameters: op.parameters ?? [],
          body: op.requestBody?.content?.['application/json']?.schema,
        })),
    );
  });
  afterAll(() => api?.close());

  const resolve = (schema: Schema | undefined): Schema => {
    let s = schema ?? {};
    for (let i = 0; s.$ref && i < 10; i += 1) s = schemas[s.$ref.split('/').pop()!] ?? {};
    const composed = s.allOf?.[0] ?? s.oneOf?.[0] ?? s.anyOf?.[0];
    return composed ? { ...resolve(composed), ...s, allOf: undefined, oneOf: undefined, anyOf: undefined } : s;
  };

  /** A plausible value for a schema (the baseline a case mutates). */
  const plausible = (schema: Schema | undefined, name: string, depth = 0): unknown => {
    const s = resolve(schema);
    if (s.example !== undefined && !/id$/i.test(name)) return s.example;
    if (s.enum?.length) return s.enum[0];
    const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
    if (s.properties || type === 'object') {
      return Object.fromEntries(
        Object.entries(s.properties ?? {})
          .filter(([key]) => depth < 4 && (s.required?.includes(key) || key === 'goal'))
          .map(([key, value]) => [key, plausible(value, key, depth + 1)]),
      );
    }
    if (type === 'array') return depth < 4 ? [plausible(s.items, name, depth + 1)] : [];
    if (type === 'integer' || type === 'number') return s.minimum ?? 1;
    if (type === 'boolean') return true;
    if (s.format === 'uuid' || /stageid/i.test(name))
      return /stage/i.test(name) ? ids.stages[1] : /pipeline/i.test(name) ? ids.pipeline : randomUUID();
    if (s.format === 'date') return '2026-12-31';
    if (s.format === 'date-time') return '2026-01-01T00:00:00Z';
    return 'x';
  };

  /** Every place in an operation a hostile value can go. */
  const targetsOf = (op: Operation): Target[] => {
    const targets: Target[] = op.parameters.map((p) => ({ kind: p.in, name: p.name }));
    const walk = (schema: Schema | undefined, at: string[]) => {
      const s = resolve(schema);
      for (const [key, value] of Object.entries(s.properties ?? {})) {
        targets.push({ kind: 'body', at: [...at, key] });
        if (at.length < 3) walk(value, [...at, key]);
        const item = resolve(value).items;
        if (item && at.length < 3) walk(item, [...at, key, '0']);
      }
    };
    if (op.body) {
      targets.push({ kind: 'whole-body' });
      walk(op.body, []);
    }
    return targets.length > 0 ? targets : [{ kind: 'query', name: 'unexpected' }];
  };

  const pathId = (op: Operation, name: string): string => {
    if (name === 'stageId') return ids.stages[1];
    if (op.path.startsWith('/deals/')) return /upsell|cross-sell/.test(op.path) ? ids.wonDeal : ids.deal;
    if (op.path.endsWith('/archive')) return ids.archivable;
    return ids.pipeline;
  };

  const asText = (value: unknown): string => (typeof value === 'string' ? value : toJson(value));

  /** Percent-encodes every UTF-16 unit, lone surrogates included (as the bytes a hostile client would send). */
  const percentEncode = (text: string): string => {
    let out = '';
    for (let i = 0; i < text.length; i += 1) {
      const unit = text.charCodeAt(i);
      const next = text.charCodeAt(i + 1);
      if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        out += encodeURIComponent(text.slice(i, i + 2));
        i += 1;
      } else if (unit >= 0xd800 && unit <= 0xdfff) {
        out += [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)]
          .map((b) => `%${b.toString(16).toUpperCase()}`)
          .join('');
      } else {
        out += encodeURIComponent(text[i]);
      }
    }
    return out;
  };

  const setAt = (body: unknown, at: string[], value: unknown): unknown => {
    if (at.length === 0) return value;
    const [head, ...rest] = at as [string, ...string[]];
    const container: Record<string, unknown> = Array.isArray(body)
      ? ([...body] as unknown as Record<string, unknown>)
      : { ...(body as object) };
    container[head] = setAt(container[head] ?? (rest.length && /^\d+$/.test(rest[0]) ? [] : {}), rest, value);
    return container;
  };

  it(`never answers 5xx, always problem+json for 4xx, and writes nothing when refusing (${RUNS} cases, seed ${SEED})`, async () => {
    expect(operations.length).toBeGreaterThanOrEqual(25);
    const seen = {
      cases: 0,
      byStatus: new Map<number, number>(),
      operations: new Set<string>(),
      refusedWithoutWrite: 0,
    };
    const started = Date.now();

    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.nat(), hostileValue, async (opIndex, targetIndex, hostile) => {
        const op = operations[opIndex % operations.length];
        const targets = targetsOf(op);
        const target = targets[targetIndex % targets.length];
        seen.operations.add(`${op.method.toUpperCase()} ${op.path}`);

        let path = op.path.replace(/\{(\w+)\}/g, (_m, name: string) =>
          target.kind === 'path' && target.name === name ? percentEncode(asText(hostile)) || '%20' : pathId(op, name),
        );
        const query = op.parameters
          .filter((p) => p.in === 'query' && p.required)
          .map((p) => [p.name, asText(plausible(p.schema, p.name))] as [string, string]);
        const headers: Record<string, string> = { Authorization: admin };
        if (target.kind === 'query') {
          const index = query.findIndex(([name]) => name === target.name);
          if (index >= 0) query.splice(index, 1);
          query.push([target.name, asText(hostile)]);
        }
        if (query.length) path += `?${query.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&')}`;
        if (target.kind === 'header') headers[target.name] = asText(hostile);
        let body: unknown = op.body ? plausible(op.body, 'body') : undefined;
        if (target.kind === 'whole-body') body = hostile;
        if (target.kind === 'body') body = setAt(body, target.at, hostile);

        const before = await api.eventCount();
        const send = async (headerValues: Record<string, string>) => {
          let call = (api.http() as any)[op.method](path);
          for (const [name, value] of Object.entries(headerValues)) call = call.set(name, value);
          // JSON.stringify writes lone surrogates as \\udxxx escapes: the hostile text reaches the parser.
          if (body !== undefined) call = call.set('Content-Type', 'application/json').send(toJson(body));
          return call;
        };
        let response;
        try {
          response = await send(headers);
        } catch (error) {
          // Node's client will not put NUL or non-Latin-1 text in a header; send it JSON-escaped instead.
          if (
            target.kind !== 'header' ||
            !/ERR_INVALID_CHAR|Invalid character|ERR_HTTP_INVALID_HEADER_VALUE/.test(
              String((error as { code?: string }).code ?? error),
            )
          )
            throw error;
          response = await send({
            ...headers,
            [target.name]: JSON.stringify(asText(hostile)).replace(/[^\x20-\x7e]/g, '?'),
          });
        }
        const status: number = response.status;
        seen.cases += 1;
        seen.byStatus.set(status, (seen.byStatus.get(status) ?? 0) + 1);
        const context = `${op.method.toUpperCase()} ${path.slice(0, 300)} ${JSON.stringify(target)} ← ${hostile instanceof Deep ? String(hostile) : toJson(hostile).slice(0, 200)} → ${status} ${response.text?.slice(0, 300)}`;

        // The one documented 5xx a client can provoke: a well-formed minPosition the read models have
        // not reached (503 read-model-behind, Retry-After) — the read may succeed later.
        const behind = status === 503 && response.body?.code === 'read-model-behind';
        if (status >= 500 && !behind) throw new Error(`5xx: ${context}`);
        if (status >= 400 && !behind) {
          if (!/^application\/problem\+json/.test(response.headers['content-type'] ?? ''))
            throw new Error(`4xx without problem+json: ${context}`);
          const after = await api.eventCount();
          if (after !== before) throw new Error(`refused, yet ${after - before} event(s) written: ${context}`);
          seen.refusedWithoutWrite += 1;
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );

    const summary = [...seen.byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, n]) => `${status}×${n}`)
      .join(' ');
    console.log(
      `hostile-input: ${seen.cases} cases over ${seen.operations.size}/${operations.length} operations in ${((Date.now() - started) / 1000).toFixed(1)} s (seed ${SEED}); refused without a write: ${seen.refusedWithoutWrite}; statuses ${summary}`,
    );
    expect(seen.cases).toBe(RUNS);
    expect(seen.operations.size).toBe(operations.length);

    // Whatever was accepted is something the projections can hold: they reach the store's last event.
    const last = (await api.events()).at(-1)!;
    const head = `${last.position.major.toString(16).padStart(16, '0')}-${last.position.minor.toString(16).padStart(16, '0')}`;
    let caughtUp = 0;
    for (const deadline = Date.now() + 20_000; Date.now() < deadline && caughtUp !== 200;) {
      caughtUp = (
        await api
          .http()
          .get(`/pipelines/${ids.pipeline}/board`)
          .query({ minPosition: head })
          .set('Authorization', admin)
      ).status;
    }
    expect(caughtUp).toBe(200);
  }, 180_000);
});
