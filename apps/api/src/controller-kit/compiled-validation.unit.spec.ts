import 'reflect-metadata';
import type { ArgumentMetadata, Type } from '@nestjs/common';
import { Type as TransformType } from 'class-transformer';
import { getMetadataStorage, IsInt, IsString, Max, ValidateNested } from 'class-validator';
import fc from 'fast-check';
import * as dealDtos from '../deals/dtos/deal-commands.dto.js';
import * as pipelineDtos from '../pipelines/dtos/pipeline-commands.dto.js';
import * as stageDtos from '../pipelines/dtos/stage.dto.js';
import { ApiProblem } from '../problem/api-problem.js';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import Fastify from 'fastify';
import { COMPARE_PERIODS, FUNNEL_POLICIES, SERIES_INTERVALS } from '@dealstream/read-models';
import { DealAuditController } from '../audit/aggregate-audit.controller.js';
import { AuditVerifyController } from '../audit/audit-verify.controller.js';
import { EventFeedController } from '../audit/event-feed.controller.js';
import { EventFeedQueryDto } from '../audit/dtos/event-feed-query.dto.js';
import { DealsController } from '../deals/deals.controller.js';
import { EventStreamController } from '../event-stream/event-stream.controller.js';
import { PipelinesController } from '../pipelines/pipelines.controller.js';
import { FUNNEL_PARTS, PIPELINE_PARTS, VELOCITY_PARTS } from '../read-models/dtos/query-params.dto.js';
import { ReadModelsController } from '../read-models/read-models.controller.js';
import { EXPORT_FORMATS } from '../read-models/report-export.js';
import { StageMapsController } from '../stage-maps/stage-maps.controller.js';
import { WebhooksController } from '../webhooks/webhooks.controller.js';
import { apiValidationPipe } from './api-validation.pipe.js';
import { CompiledValidationPipe } from './compiled-validation.js';

/*
 * The compiled fast path may only ever accept what the ValidationPipe accepts, with the same DTO
 * instance; everything else is the pipe's answer. Held over every command DTO with bodies built
 * from each property's valid value and every value of a pool of awkward ones (wrong types, lengths
 * at and past the bounds, case, null, nested values, unknown properties).
 */

const pipe = apiValidationPipe();
const fast = new CompiledValidationPipe(pipe);

const UUID = '1b4e28ba-2fa1-41d2-883f-0e1b2a3c4d5e';
const POOL: readonly unknown[] = [
  null,
  true,
  false,
  0,
  1,
  -1,
  1.5,
  50,
  100,
  101,
  Number.MAX_SAFE_INTEGER,
  2 ** 53,
  '',
  ' ',
  'x',
  'call',
  'email',
  'meeting',
  'note',
  'social',
  'budget',
  'price',
  'no-budget',
  'EUR',
  'eur',
  'EURO',
  '2026-12-31',
  '2026-13-01',
  UUID,
  UUID.toUpperCase(),
  `${UUID}x`,
  'a'.repeat(120),
  'a'.repeat(121),
  'a'.repeat(200),
  'a'.repeat(201),
  'a'.repeat(500),
  'a'.repeat(501),
  'a'.repeat(2000),
  'a'.repeat(2001),
  '😀'.repeat(200),
  '😀'.repeat(201),
  'é\uFE0F'.repeat(100),
  '\u0000',
  [],
  ['x'],
  {},
  { x: 1 },
];

const ABSENT = Symbol('absent');

const dtos = [...Object.values(dealDtos), ...Object.values(pipelineDtos), ...Object.values(stageDtos)].filter(
  (value): value is Type => typeof value === 'function',
);

function propertiesOf(dto: Type): string[] {
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(dto, '', false, false, undefined);
  return [...new Set(metadatas.map((metadata) => metadata.propertyName))];
}

function bodyOf(entries: [string, unknown][]): Record<string, unknown> {
  return Object.fromEntries(entries.filter(([, value]) => value !== ABSENT));
}

type Outcome = { accepted: object; proto: object | null } | { refused: unknown };

async function outcome(run: () => unknown): Promise<Outcome> {
  try {
    const accepted = (await run()) as object;
    return { accepted: { ...accepted }, proto: Object.getPrototypeOf(accepted) as object | null };
  } catch (error) {
    return { refused: error instanceof ApiProblem ? { status: error.status, ...error.extensions } : error };
  }
}

const bodyMetadata = (metatype: Type, kind: 'body' | 'query' = 'body'): ArgumentMetadata => ({ type: kind, metatype });

/** Field names the pipe refuses in `body` (none: it accepts). */
async function refusedFields(dto: Type, body: Record<string, unknown>): Promise<string[] | undefined> {
  try {
    await pipe.transform(structuredClone(body), bodyMetadata(dto));
    return undefined;
  } catch (error) {
    const errors = ((error as ApiProblem).extensions.errors ?? []) as { field: string }[];
    return errors.map((entry) => entry.field);
  }
}

/** A body the pipe accepts: for each property in turn, the first pool value (or absence) it accepts there. */
async function validBodyOf(dto: Type): Promise<Record<string, unknown> | undefined> {
  const body: Record<string, unknown> = {};
  for (const property of propertiesOf(dto)) {
    for (const candidate of [ABSENT, ...POOL]) {
      const trial = bodyOf([...Object.entries(body), [property, candidate]]);
      if (!(await refusedFields(dto, trial))?.some((field) => field === property || field.startsWith(`${property}.`))) {
        if (candidate !== ABSENT) body[property] = candidate;
        break;
      }
    }
  }
  return (await refusedFields(dto, body)) === undefined ? body : undefined;
}

/** The same body to both pipes (each gets its own copy: the ValidationPipe may change what it is given). */
async function compare(dto: Type, body: unknown): Promise<{ fastAccepted: boolean }> {
  return compareMade(dto, 'body', body, () => structuredClone(body));
}

/** As compare, each pipe given a value of its own from `make`. */
async function compareMade(
  dto: Type,
  kind: 'body' | 'query',
  shown: unknown,
  make: () => unknown,
): Promise<{ fastAccepted: boolean }> {
  const fastAccepted = fast.compiledOf(dto)?.(make()) !== undefined;
  const viaFast = await outcome(() => fast.transform(make(), bodyMetadata(dto, kind)));
  const viaPipe = await outcome(() => pipe.transform(make(), bodyMetadata(dto, kind)));
  expect({ dto: dto.name, value: shown, outcome: viaFast }).toEqual({ dto: dto.name, value: shown, outcome: viaPipe });
  if (fastAccepted) expect(viaPipe).toHaveProperty('accepted');
  return { fastAccepted };
}

describe('CompiledValidationPipe', () => {
  it('compiles the flat command DTOs and leaves nested ones to the ValidationPipe', () => {
    const compiled = dtos.filter((dto) => fast.compiledOf(dto) !== null).map((dto) => dto.name);
    expect(compiled).toEqual(
      expect.arrayContaining([
        'CreateDealDto',
        'UpdateDealDto',
        'LogActivityDto',
        'WinDealDto',
        'LoseDealDto',
        'ReopenDealDto',
        'MoveDealDto',
      ]),
    );
    expect(compiled).not.toContain('QualifyDealDto');
    expect(compiled).not.toContain('DefinePipelineDto');
    expect(compiled).not.toContain('UpdateStageDto');
    expect(compiled).not.toContain('ReorderStagesDto'); // `each`
  });

  it.each(dtos.map((dto) => [dto.name, dto] as const))(
    '%s: the same answer as the ValidationPipe for each property × every pool value',
    async (_name, dto) => {
      const valid = await validBodyOf(dto);
      const base = valid ?? {};
      let fastAccepted = 0;
      for (const property of propertiesOf(dto))
        for (const candidate of [ABSENT, ...POOL]) {
          const entries = Object.entries(base).filter(([key]) => key !== property);
          const body = bodyOf([...entries, [property, candidate]]);
          if ((await compare(dto, body)).fastAccepted) fastAccepted++;
        }
      await compare(dto, { ...base, unknown: 1 });
      await compare(dto, { ...base, __proto__: { x: 1 } });
      for (const other of [undefined, null, 'x', 1, [], [base], Object.assign(Object.create(null), base)])
        await compare(dto, other);
      if (valid && fast.compiledOf(dto)) {
        expect((await compare(dto, valid)).fastAccepted).toBe(true);
        expect(fastAccepted).toBeGreaterThan(0);
      }
    },
  );

  it.each(dtos.filter((dto) => fast.compiledOf(dto) !== null).map((dto) => [dto.name, dto] as const))(
    '%s: the same answer for random bodies over the pool',
    async (_name, dto) => {
      const properties = [...propertiesOf(dto), 'unknown'];
      await fc.assert(
        fc.asyncProperty(
          fc.record(Object.fromEntries(properties.map((name) => [name, fc.constantFrom(ABSENT, ...POOL)]))),
          async (record) => {
            await compare(dto, bodyOf(Object.entries(record)));
          },
        ),
        { numRuns: 300 },
      );
    },
  );

  it('answers a body that passes every check with the DTO instance, without the ValidationPipe', async () => {
    const calls: unknown[] = [];
    const counting = new CompiledValidationPipe({
      transform: (value: unknown, metadata: ArgumentMetadata) => {
        calls.push(value);
        return pipe.transform(value, metadata);
      },
    });
    const accepted = await counting.transform({ kind: 'call', outcome: 'ok' }, bodyMetadata(dealDtos.LogActivityDto));
    expect(accepted).toBeInstanceOf(dealDtos.LogActivityDto);
    expect({ ...(accepted as object) }).toEqual({ kind: 'call', outcome: 'ok' });
    expect(calls).toEqual([]);
    // A refusal is the pipe's: its problem, its messages.
    await expect(counting.transform({ kind: 'fax' }, bodyMetadata(dealDtos.LogActivityDto))).rejects.toMatchObject({
      status: 400,
      code: 'validation-failed',
      extensions: { errors: [{ field: 'kind', messages: [expect.stringContaining('kind must be one of')] }] },
    });
    expect(calls).toEqual([{ kind: 'fax' }]);
  });

  it('leaves classes with nested, transformed or unknown-valued properties to the pipe', () => {
    class Inner {
      @IsInt()
      n!: number;
    }
    class Nested {
      @ValidateNested()
      @TransformType(() => Inner)
      inner!: Inner;
    }
    class Transformed {
      @TransformType(() => Number)
      @IsInt()
      @Max(3)
      n!: number;
    }
    class WithMethod {
      @IsString()
      s!: string;
      shout() {
        return this.s.toUpperCase();
      }
    }
    class Bare {}
    for (const dto of [Nested, Transformed, WithMethod, Bare, String, Object]) expect(fast.compiledOf(dto)).toBeNull();
  });

  it('passes parameters that are neither bodies nor queries to the pipe', async () => {
    const seen: ArgumentMetadata[] = [];
    const recording = new CompiledValidationPipe({
      transform: (value: unknown, metadata: ArgumentMetadata) => {
        seen.push(metadata);
        return value;
      },
    });
    const param: ArgumentMetadata = { type: 'param', metatype: pipelineDtos.RemoveStageQueryDto, data: 'x' };
    const custom: ArgumentMetadata = { type: 'custom', metatype: pipelineDtos.RemoveStageQueryDto };
    expect(await recording.transform({ moveOpenDealsTo: UUID }, param)).toEqual({ moveOpenDealsTo: UUID });
    expect(await recording.transform({ moveOpenDealsTo: UUID }, custom)).toEqual({ moveOpenDealsTo: UUID });
    expect(seen).toEqual([param, custom]);
  });
});

/*
 * Query DTOs: every DTO a controller takes with @Query(), given query objects as Fastify parses them
 * (an object whose prototype has none; a repeated parameter as an array of strings).
 */
describe('CompiledValidationPipe on query strings', () => {
  const controllers = [
    DealAuditController,
    AuditVerifyController,
    EventFeedController,
    EventStreamController,
    DealsController,
    PipelinesController,
    ReadModelsController,
    StageMapsController,
    WebhooksController,
  ];
  const queryDtos = [
    ...new Set(
      controllers.flatMap((controller) =>
        Object.getOwnPropertyNames(controller.prototype).flatMap((name) => {
          const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {}) as Record<
            string,
            { index: number; data?: unknown }
          >;
          const types = (Reflect.getMetadata('design:paramtypes', controller.prototype as object, name) ??
            []) as unknown[];
          return Object.entries(args)
            .filter(
              ([key, arg]) =>
                (Number(key.split(':')[0]) as RouteParamtypes) === RouteParamtypes.QUERY && arg.data === undefined,
            )
            .map(([, arg]) => types[arg.index])
            .filter((type): type is Type => typeof type === 'function' && type !== Object);
        }),
      ),
    ),
  ];

  /** The prototype of Fastify's query objects (fast-querystring's `new Empty()`), taken from a real request. */
  let queryProto: object;
  beforeAll(async () => {
    const app = Fastify();
    let seen: unknown;
    app.get('/q', (request, reply) => {
      seen = request.query;
      return reply.send('');
    });
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as { port: number };
      await (await fetch(`http://127.0.0.1:${port}/q?a=1&a=2&b=`)).text();
    } finally {
      await app.close();
    }
    expect(Object.getPrototypeOf(Object.getPrototypeOf(seen))).toBeNull();
    expect({ ...(seen as object) }).toEqual({ a: ['1', '2'], b: '' });
    queryProto = Object.getPrototypeOf(seen) as object;
  });
  const queryOf = (entries: [string, unknown][]) =>
    Object.assign(Object.create(queryProto) as object, Object.fromEntries(entries.filter(([, v]) => v !== ABSENT)));

  const QUERY_POOL: readonly unknown[] = [
    '',
    ' ',
    'x',
    ...['0', '1', '2', '10', '50', '100', '101', '1000', '1001', '-1', '1e3', ' 5', '0x10', '01'],
    ...['9007199254740991', '9007199254740992', '18446744073709551615'],
    ...['true', 'false', 'occurred', 'recorded', 'active', 'archived', 'new', 'upsell', 'EUR'],
    ...EXPORT_FORMATS,
    ...COMPARE_PERIODS,
    ...SERIES_INTERVALS,
    ...FUNNEL_POLICIES,
    ...[...FUNNEL_PARTS, ...VELOCITY_PARTS, ...PIPELINE_PARTS, 'stages,transitions', 'currencies,reasons'],
    ...['deal', 'DealWon,DealLost', 'a,,b', 'Deal Won'],
    UUID,
    UUID.toUpperCase(),
    ...['00000000000002f1-0000000000000017', '8000000000000000-0000000000000000', '00000000000002f1'],
    ...['2026-03-31T23:59:59Z', '2026-03-31T23:59:59.999+01:00', '2026-02-31T00:00:00Z', '1899-12-31T23:59:59Z'],
    ...['2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'],
    'x'.repeat(33),
    'a'.repeat(201),
    '\u0000',
    ['1', '2'],
    [UUID, UUID],
    [''],
  ];

  async function refusedQueryFields(dto: Type, entries: [string, unknown][]): Promise<string[] | undefined> {
    try {
      await pipe.transform(queryOf(entries), bodyMetadata(dto, 'query'));
      return undefined;
    } catch (error) {
      return (((error as ApiProblem).extensions.errors ?? []) as { field: string }[]).map((entry) => entry.field);
    }
  }

  /** A query the pipe accepts: for each property in turn, the first pool value (or absence) it accepts there. */
  async function validQueryOf(dto: Type): Promise<[string, unknown][]> {
    const entries: [string, unknown][] = [];
    for (const property of propertiesOf(dto)) {
      for (const candidate of [ABSENT, ...QUERY_POOL]) {
        if (!(await refusedQueryFields(dto, [...entries, [property, candidate]]))?.includes(property)) {
          if (candidate !== ABSENT) entries.push([property, candidate]);
          break;
        }
      }
    }
    return entries;
  }

  const compareQuery = (dto: Type, entries: [string, unknown][]) =>
    compareMade(dto, 'query', Object.fromEntries(entries), () => queryOf(entries));

  it('finds the query DTOs of the routes, the feed among them, and compiles the flat ones', () => {
    const names = queryDtos.map((dto) => dto.name);
    expect(names).toEqual(
      expect.arrayContaining(['EventFeedQueryDto', 'ReadParamsDto', 'BoardQueryDto', 'RemoveStageQueryDto']),
    );
    expect(names.length).toBeGreaterThanOrEqual(15);
    expect(fast.compiledOf(EventFeedQueryDto)).not.toBeNull();
  });

  it.each(queryDtos.map((dto) => [dto.name, dto] as const))(
    '%s: the same answer as the ValidationPipe for each parameter × every pool value',
    async (_name, dto) => {
      const valid = await validQueryOf(dto);
      let fastAccepted = 0;
      for (const property of propertiesOf(dto))
        for (const candidate of [ABSENT, ...QUERY_POOL]) {
          const entries: [string, unknown][] = [...valid.filter(([key]) => key !== property), [property, candidate]];
          if ((await compareQuery(dto, entries)).fastAccepted) fastAccepted++;
        }
      await compareQuery(dto, [...valid, ['unknown', '1']]);
      await compareQuery(dto, [...valid, ['__proto__', '1']]);
      await compareQuery(dto, [...valid, ['constructor', '1']]);
      if (fast.compiledOf(dto)) {
        expect((await compareQuery(dto, valid)).fastAccepted).toBe(true);
        expect(fastAccepted).toBeGreaterThan(0);
      }
    },
  );

  it.each(queryDtos.filter((dto) => fast.compiledOf(dto) !== null).map((dto) => [dto.name, dto] as const))(
    '%s: the same answer for random queries over the pool',
    async (_name, dto) => {
      const properties = [...propertiesOf(dto), 'unknown'];
      await fc.assert(
        fc.asyncProperty(
          fc.record(Object.fromEntries(properties.map((name) => [name, fc.constantFrom(ABSENT, ...QUERY_POOL)]))),
          async (record) => {
            await compareQuery(dto, Object.entries(record));
          },
        ),
        { numRuns: 200 },
      );
    },
  );

  it("answers the feed's query with the DTO instance, without the ValidationPipe; refusals are the pipe's", async () => {
    const calls: unknown[] = [];
    const counting = new CompiledValidationPipe({
      transform: (value: unknown, metadata: ArgumentMetadata) => {
        calls.push(value);
        return pipe.transform(value, metadata);
      },
    });
    const metadata = bodyMetadata(EventFeedQueryDto, 'query');
    const accepted = await counting.transform(
      queryOf([
        ['limit', '100'],
        ['after', '00000000000002f1-0000000000000017'],
      ]),
      metadata,
    );
    expect(accepted).toBeInstanceOf(EventFeedQueryDto);
    expect({ ...(accepted as object) }).toEqual({ limit: '100', after: '00000000000002f1-0000000000000017' });
    expect(calls).toEqual([]);
    await expect(counting.transform(queryOf([['limit', '1e3']]), metadata)).rejects.toMatchObject({
      status: 400,
      code: 'validation-failed',
      extensions: { errors: [{ field: 'limit', messages: ['limit must be a whole number from 1 to 1000'] }] },
    });
    await expect(counting.transform(queryOf([['limit', ['1', '2']]]), metadata)).rejects.toMatchObject({
      status: 400,
      code: 'validation-failed',
    });
    expect(calls).toHaveLength(2);
  });
});
