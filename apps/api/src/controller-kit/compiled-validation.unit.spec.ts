import 'reflect-metadata';
import type { ArgumentMetadata, Type } from '@nestjs/common';
import { Type as TransformType } from 'class-transformer';
import { getMetadataStorage, IsInt, IsString, Max, ValidateNested } from 'class-validator';
import fc from 'fast-check';
import * as dealDtos from '../deals/dtos/deal-commands.dto.js';
import * as pipelineDtos from '../pipelines/dtos/pipeline-commands.dto.js';
import * as stageDtos from '../pipelines/dtos/stage.dto.js';
import { ApiProblem } from '../problem/api-problem.js';
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

const bodyMetadata = (metatype: Type): ArgumentMetadata => ({ type: 'body', metatype });

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
  const fastAccepted = fast.compiledOf(dto)?.(structuredClone(body)) !== undefined;
  const viaFast = await outcome(() => fast.transform(structuredClone(body), bodyMetadata(dto)));
  const viaPipe = await outcome(() => pipe.transform(structuredClone(body), bodyMetadata(dto)));
  expect({ dto: dto.name, body, outcome: viaFast }).toEqual({ dto: dto.name, body, outcome: viaPipe });
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

  it('passes parameters that are not bodies to the pipe', async () => {
    const seen: ArgumentMetadata[] = [];
    const recording = new CompiledValidationPipe({
      transform: (value: unknown, metadata: ArgumentMetadata) => {
        seen.push(metadata);
        return value;
      },
    });
    const query: ArgumentMetadata = { type: 'query', metatype: pipelineDtos.RemoveStageQueryDto };
    expect(await recording.transform({ moveOpenDealsTo: UUID }, query)).toEqual({ moveOpenDealsTo: UUID });
    expect(seen).toEqual([query]);
  });
});
