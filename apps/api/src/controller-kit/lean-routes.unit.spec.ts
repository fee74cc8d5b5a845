import 'reflect-metadata';
import {
  Body,
  Controller,
  Get,
  Header,
  HttpCode,
  Param,
  Post,
  Req,
  Res,
  UseGuards,
  createParamDecorator,
  type CanActivate,
  type ExecutionContext,
  type PipeTransform,
} from '@nestjs/common';
import { IsInt, IsString, Max } from 'class-validator';
import Fastify, { type FastifyInstance } from 'fastify';
import type { IdempotentWrites } from '../idempotency/idempotency.interceptor.js';
import { ApiProblem } from '../problem/api-problem.js';
import { ProblemDetailsFilter } from '../problem/problem-details.filter.js';
import { apiValidationPipe } from './api-validation.pipe.js';
import type { HttpReply, HttpRequest } from './http-exchange.js';
import { serveLeanRoutes } from './lean-routes.js';
import { UuidParamPipe } from './uuid-param.pipe.js';
import { DealsController } from '../deals/deals.controller.js';
import { PipelinesController } from '../pipelines/pipelines.controller.js';
import { ReadModelsController } from '../read-models/read-models.controller.js';

/** A custom parameter decorator as the API's @CurrentPrincipal: what the guard put on the request. */
const Who = createParamDecorator((field: string | undefined, context: ExecutionContext) => {
  const principal = context.switchToHttp().getRequest<HttpRequest>().principal as unknown as Record<string, unknown>;
  return field ? principal[field] : principal;
});

/** Notes what a pipe was given, to compare with what Nest gives it. */
class NotingPipe implements PipeTransform {
  static readonly seen: unknown[] = [];
  transform(value: unknown, metadata: unknown) {
    NotingPipe.seen.push({ value, metadata });
    return value;
  }
}

class PokeDto {
  @IsInt()
  @Max(10)
  times!: number;

  @IsString()
  note!: string;
}

class NeverGuard implements CanActivate {
  canActivate() {
    return false;
  }
}

@Controller('things')
class ThingsController {
  readonly calls: unknown[][] = [];

  @Post(':id/poke')
  @HttpCode(200)
  poke(
    @Param('id', UuidParamPipe) id: string,
    @Body() body: PokeDto,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) reply: HttpReply,
  ) {
    this.calls.push([id, body, request.principal]);
    reply.header('ETag', '"7"');
    return { id, times: body.times, dto: body instanceof PokeDto };
  }

  @Post()
  create(@Body() body: PokeDto) {
    return { times: body.times };
  }

  /** A custom parameter decorator (with and without data, with a pipe of its own): lean. */
  @Get(':id')
  one(@Param('id', UuidParamPipe) id: string, @Who() principal: object, @Who('actorId', NotingPipe) actorId: string) {
    return { id, principal, actorId };
  }

  /** Answers by hand: Nest's. */
  @Post('raw')
  raw(@Res() reply: HttpReply) {
    return reply.send('raw');
  }

  /** A guard of its own: Nest's. */
  @Get()
  @UseGuards(NeverGuard)
  list() {
    return [];
  }

  /** A response header decorator: Nest's. */
  @Get('headed')
  @Header('Cache-Control', 'no-store')
  headed() {
    return {};
  }
}

const ID = '0b6f3a1c-6a3e-4c39-9d6e-9b4b8f1f2a10';

describe('serveLeanRoutes (command routes without Nest per-request layers)', () => {
  let fastify: FastifyInstance;
  let lean: ReadonlySet<string>;
  let controller: ThingsController;
  const runs: { status: number; key: string | undefined }[] = [];
  let allow = true;
  let base = '';

  beforeAll(async () => {
    fastify = Fastify();
    controller = new ThingsController();
    const guard: CanActivate = {
      canActivate(context) {
        if (!allow) throw new ApiProblem(401, 'unauthorized', 'no token');
        context.switchToHttp().getRequest<HttpRequest>().principal = { actorId: 'actor-1', roles: ['admin'] } as never;
        return true;
      },
    };
    const idempotency = {
      run: (request: HttpRequest, _reply: HttpReply, status: number, handle: () => Promise<unknown>) => {
        runs.push({ status, key: request.headers['idempotency-key'] as string | undefined });
        return handle();
      },
    } as unknown as IdempotentWrites;
    lean = serveLeanRoutes(fastify, [{ type: ThingsController, instance: controller }], {
      guard,
      idempotency,
      validation: apiValidationPipe(),
      problems: new ProblemDetailsFilter(),
      requireNonEmptyParams: (_url, handler) => handler,
    });
    // What Nest would register: a handler that says it was Nest's.
    const nest = async () => ({ servedBy: 'nest' });
    fastify.post('/things/:id/poke', nest);
    fastify.post('/things', nest);
    fastify.get('/things/:id', nest);
    fastify.post('/things/raw', nest);
    fastify.get('/things', nest);
    fastify.get('/things/headed', nest);
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    const address = fastify.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });

  /** light-my-request (fastify.inject) cannot load under Jest's ESM runtime: real requests instead. */
  async function send(method: string, url: string, payload?: object, headers: Record<string, string> = {}) {
    const response = await fetch(`${base}${url}`, {
      method,
      headers: payload ? { 'content-type': 'application/json', ...headers } : headers,
      ...(payload ? { body: JSON.stringify(payload) } : {}),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: JSON.parse(text) as Record<string, unknown> };
  }

  afterAll(() => fastify.close());
  beforeEach(() => {
    allow = true;
    runs.length = 0;
  });

  it('serves the plain methods lean and leaves the rest to Nest', async () => {
    expect([...lean].sort()).toEqual(['GET /things/:id', 'POST /things', 'POST /things/:id/poke']);
    for (const [method, url] of [
      ['POST', '/things/raw'],
      ['GET', '/things'],
      ['GET', '/things/headed'],
    ] as const)
      expect((await send(method, url)).body).toEqual({ servedBy: 'nest' });
  });

  it('runs guard, status, Idempotency-Key, pipes and the method, and sends what it returns', async () => {
    const response = await send(
      'POST',
      `/things/${ID.toUpperCase()}/poke`,
      { times: 3, note: 'x' },
      {
        'idempotency-key': 'k-1',
      },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBe('"7"');
    expect(response.body).toEqual({ id: ID, times: 3, dto: true });
    expect(runs).toEqual([{ status: 200, key: 'k-1' }]);
    expect(controller.calls.at(-1)?.[2]).toEqual({ actorId: 'actor-1', roles: ['admin'] });
    const created = await send('POST', '/things', { times: 1, note: 'y' });
    expect(created.status).toBe(201);
    expect(runs.at(-1)).toEqual({ status: 201, key: undefined });
  });

  it("serves a custom parameter decorator: its factory with the request's context, then the pipes", async () => {
    NotingPipe.seen.length = 0;
    const response = await send('GET', `/things/${ID}`);
    expect(response.status).toBe(200);
    const principal = { actorId: 'actor-1', roles: ['admin'] };
    expect(response.body).toEqual({ id: ID, principal, actorId: 'actor-1' });
    // Nest's metadata for it: the key's first part as its type (a pipeable parameter), its data, its metatype.
    expect(NotingPipe.seen).toEqual([
      {
        value: 'actor-1',
        metadata: { type: expect.stringMatching(/__customRouteArgs__$/), metatype: String, data: 'actorId' },
      },
    ]);
    expect((await send('GET', '/things/nope')).body).toMatchObject({ status: 400, code: 'invalid-id' });
  });

  it('answers the same problems as the global filter and ValidationPipe', async () => {
    const invalid = await send('POST', `/things/${ID}/poke`, { times: 11, note: 4, extra: true });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(invalid.body).toMatchObject({
      code: 'validation-failed',
      errors: [
        { field: 'extra', messages: ['property extra should not exist'] },
        { field: 'times', messages: ['times must not be greater than 10'] },
        { field: 'note', messages: ['note must be a string'] },
      ],
    });
    const badId = await send('POST', '/things/nope/poke', { times: 1, note: 'x' });
    expect(badId.body).toMatchObject({ status: 400, code: 'invalid-id', detail: "'nope' is not a UUID" });
    allow = false;
    const refused = await send('POST', `/things/${ID}/poke`, {});
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ code: 'unauthorized', detail: 'no token' });
    expect(runs).toHaveLength(2); // the refused request never reached the Idempotency-Key step
  });
});

describe("the API's command routes", () => {
  it('are all served lean (a decorator only Nest serves would silently put one back on the slow path)', async () => {
    const fastify = Fastify();
    const lean = serveLeanRoutes(
      fastify,
      [DealsController, PipelinesController].map((type) => ({ type, instance: {} })),
      {
        guard: { canActivate: () => true },
        idempotency: {} as IdempotentWrites,
        validation: apiValidationPipe(),
        problems: new ProblemDetailsFilter(),
        requireNonEmptyParams: (_url, handler) => handler,
      },
    );
    await fastify.close();
    expect([...lean].sort()).toEqual([
      'DELETE /pipelines/:id/stages/:stageId',
      'PATCH /deals/:id',
      'PATCH /pipelines/:id/stages/:stageId',
      'POST /deals',
      'POST /deals/:id/activities',
      'POST /deals/:id/cross-sell',
      'POST /deals/:id/disqualify',
      'POST /deals/:id/lose',
      'POST /deals/:id/qualify',
      'POST /deals/:id/reopen',
      'POST /deals/:id/stage',
      'POST /deals/:id/upsell',
      'POST /deals/:id/win',
      'POST /pipelines',
      'POST /pipelines/:id/archive',
      'POST /pipelines/:id/stages',
      'POST /pipelines/:id/stages/reorder',
    ]);
  });
});

describe("the API's deal read", () => {
  it('GET /deals/:id is served lean, and only it of the read routes (the others stay on Nest)', async () => {
    const fastify = Fastify();
    const lean = serveLeanRoutes(fastify, [{ type: ReadModelsController, instance: {}, methods: ['deal'] }], {
      guard: { canActivate: () => true },
      idempotency: {} as IdempotentWrites,
      validation: apiValidationPipe(),
      problems: new ProblemDetailsFilter(),
      requireNonEmptyParams: (_url, handler) => handler,
    });
    await fastify.close();
    expect([...lean]).toEqual(['GET /deals/:id']);
  });
});
