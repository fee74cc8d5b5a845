import {
  ForbiddenException,
  RequestMethod,
  type ArgumentMetadata,
  type CanActivate,
  type PipeTransform,
  type Type,
} from '@nestjs/common';
import {
  CUSTOM_ROUTE_ARGS_METADATA,
  EXCEPTION_FILTERS_METADATA,
  GUARDS_METADATA,
  HEADERS_METADATA,
  INTERCEPTORS_METADATA,
  METHOD_METADATA,
  PATH_METADATA,
  PIPES_METADATA,
  REDIRECT_METADATA,
  RENDER_METADATA,
  RESPONSE_PASSTHROUGH_METADATA,
  ROUTE_ARGS_METADATA,
  SSE_METADATA,
} from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import type { FastifyInstance, RouteHandlerMethod } from 'fastify';
import type { IdempotentWrites } from '../idempotency/idempotency.interceptor.js';
import { isNotKeyed, successStatusOf } from '../idempotency/idempotency.interceptor.js';
import type { ProblemDetailsFilter } from '../problem/problem-details.filter.js';
import type { HttpReply, HttpRequest } from './http-exchange.js';

/**
 * The command routes (deals, pipelines) served without Nest's per-request machinery.
 *
 * They stay Nest controller methods — the route table, dependency injection, the OpenAPI document
 * and the decorators are Nest's — but Fastify runs them through one plain async function instead of
 * Nest's router proxy, guards consumer, rxjs interceptor chain, pipes consumer and response
 * controller. It does the same steps in the same order with the same objects:
 *
 *   1. the AuthGuard (the same instance as the global guard: one verified-token cache);
 *   2. the route's success status (@HttpCode, else 201 for POST);
 *   3. IdempotentWrites (the Idempotency-Key claim, replay or recording), around
 *   4. the parameters: each goes through the API's ValidationPipe, then its own pipes
 *      (UuidParamPipe), all in parallel as Nest does — so a `validation-failed` is the same problem
 *      with the same messages; a custom parameter decorator (`@CurrentPrincipal`) is its factory
 *      called with the request's execution context, then the same pipes, as Nest does;
 *   5. the controller method, and `reply.send` of what it returns;
 *   any error → ProblemDetailsFilter.answer, which is what the global filter does.
 *
 * A method using anything else (its own guards, interceptors, pipes or filters, @Header, @Redirect,
 * @Render, @Sse, @Res without passthrough, @Next) is left to Nest:
 * `leanHandlerOf` returns undefined for it. Measured gain: test/benchmarks/README.md, "Lean command
 * routes".
 */
export interface LeanRouteParts {
  readonly guard: CanActivate;
  readonly idempotency: IdempotentWrites;
  readonly validation: PipeTransform;
  readonly problems: ProblemDetailsFilter;
  /** Nest's wrapper that answers 404 for an empty path parameter (`/deals//win`), as on Nest's routes. */
  readonly requireNonEmptyParams: (url: string, handler: RouteHandlerMethod) => RouteHandlerMethod;
}

/**
 * Registers an `onRoute` hook that swaps Nest's handler for the lean one on every route of
 * `controllers` it can serve. Call it before Nest registers its routes (before `app.init()`).
 * Returns the `METHOD /path` keys served lean (for tests and the startup check).
 */
export function serveLeanRoutes(
  fastify: FastifyInstance,
  controllers: readonly {
    readonly type: Type;
    readonly instance: object;
    /** Only these methods (default: every method it can serve). */
    readonly methods?: readonly string[];
  }[],
  parts: LeanRouteParts,
): ReadonlySet<string> {
  const handlers = new Map<string, RouteHandlerMethod>();
  for (const { type, instance, methods } of controllers) {
    const classPath = String(Reflect.getMetadata(PATH_METADATA, type) ?? '');
    for (const name of Object.getOwnPropertyNames(type.prototype)) {
      const method = (type.prototype as Record<string, unknown>)[name];
      if (name === 'constructor' || typeof method !== 'function') continue;
      if (methods && !methods.includes(name)) continue;
      const verb = Reflect.getMetadata(METHOD_METADATA, method) as RequestMethod | undefined;
      const path = Reflect.getMetadata(PATH_METADATA, method) as string | undefined;
      if (verb === undefined || path === undefined) continue;
      const handler = leanHandlerOf(type, instance, name, RequestMethod[verb], parts);
      if (handler) handlers.set(`${RequestMethod[verb]} ${joinPath(classPath, path)}`, handler);
    }
  }
  fastify.addHook('onRoute', (route) => {
    if (typeof route.method !== 'string') return;
    const handler = handlers.get(`${route.method} ${route.url}`);
    if (handler) route.handler = parts.requireNonEmptyParams(route.url, handler);
  });
  return new Set(handlers.keys());
}

/** Nest's route path: `/` + the controller's and the method's paths, without empty or doubled slashes. */
function joinPath(classPath: string, methodPath: string): string {
  const segments = [classPath, methodPath].map((part) => part.replace(/^\/+|\/+$/g, '')).filter(Boolean);
  return `/${segments.join('/')}`;
}

interface LeanParam {
  readonly index: number;
  readonly extract: (request: HttpRequest, reply: HttpReply, context: ExecutionContextHost) => unknown;
  readonly pipes: readonly PipeTransform[];
  readonly metadata: ArgumentMetadata;
}

const ROUTE_LEVEL_METADATA = [
  GUARDS_METADATA,
  INTERCEPTORS_METADATA,
  PIPES_METADATA,
  EXCEPTION_FILTERS_METADATA,
] as const;
const METHOD_ONLY_METADATA = [HEADERS_METADATA, REDIRECT_METADATA, RENDER_METADATA, SSE_METADATA] as const;

/** The lean handler of one controller method, or undefined when it uses something only Nest serves. */
function leanHandlerOf(
  type: Type,
  instance: object,
  name: string,
  verb: string,
  parts: LeanRouteParts,
): RouteHandlerMethod | undefined {
  const method = (type.prototype as Record<string, (...args: unknown[]) => unknown>)[name];
  if (
    ROUTE_LEVEL_METADATA.some((key) => hasEntries(Reflect.getMetadata(key, type) ?? Reflect.getMetadata(key, method)))
  )
    return undefined;
  if (METHOD_ONLY_METADATA.some((key) => hasEntries(Reflect.getMetadata(key, method)))) return undefined;
  const params = paramsOf(type, name, parts.validation);
  if (!params) return undefined;
  const status = successStatusOf(verb, method);
  const keyed = !isNotKeyed(method);
  const length = params.reduce((most, param) => Math.max(most, param.index + 1), 0);
  const { guard, idempotency, problems } = parts;
  const run = async (request: HttpRequest, reply: HttpReply, context: ExecutionContextHost): Promise<unknown> => {
    const args = new Array<unknown>(length);
    // As Nest's pipes consumer: every parameter at once, in order, the first rejection wins.
    await Promise.all(
      params.map(async (param) => {
        let value = param.extract(request, reply, context);
        for (const pipe of param.pipes) value = await pipe.transform(value, param.metadata);
        args[param.index] = value;
      }),
    );
    return method.apply(instance, args);
  };
  return async function leanRoute(this: FastifyInstance, request, reply) {
    try {
      const context = new ExecutionContextHost([request, reply], type, method);
      context.setType('http');
      // The AuthGuard throws its own problems; `false` is Nest's 403.
      if (!(await guard.canActivate(context))) throw new ForbiddenException();
      reply.status(status);
      const result = keyed
        ? await idempotency.run(request, reply, status, () => run(request, reply, context))
        : await run(request, reply, context);
      return reply.send(result);
    } catch (error) {
      problems.answer(error, request, reply);
      return reply;
    }
  };
}

function hasEntries(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : value !== undefined && value !== null;
}

/** The method's parameters, or undefined when one of them is of a kind the lean handler does not serve. */
function paramsOf(type: Type, name: string, validation: PipeTransform): LeanParam[] | undefined {
  const declared = (Reflect.getMetadata(ROUTE_ARGS_METADATA, type, name) ?? {}) as Record<
    string,
    { index: number; data?: unknown; pipes?: unknown[]; factory?: unknown }
  >;
  const metatypes = (Reflect.getMetadata('design:paramtypes', type.prototype as object, name) ?? []) as unknown[];
  const params: LeanParam[] = [];
  for (const [key, { index, data, pipes = [], factory }] of Object.entries(declared)) {
    const custom = key.includes(CUSTOM_ROUTE_ARGS_METADATA);
    const own = pipes.map((pipe) => (typeof pipe === 'function' ? new (pipe as Type<PipeTransform>)() : pipe));
    if (!own.every((pipe): pipe is PipeTransform => typeof (pipe as PipeTransform)?.transform === 'function'))
      return undefined;
    // Pipeable parameters run the global pipe (the API's ValidationPipe) first, then their own.
    const ownPipes = [validation, ...own];
    if (custom) {
      // As Nest: the decorator's factory with the request's context; a pipeable parameter whose metadata
      // type is the key's first part (not 'custom'), so the ValidationPipe treats it as Nest's does.
      if (typeof factory !== 'function') return undefined;
      const make = factory as (data: unknown, context: ExecutionContextHost) => unknown;
      params.push({
        index,
        extract: (_request, _reply, context) => make(data, context),
        pipes: ownPipes,
        metadata: {
          type: key.split(':')[0] as ArgumentMetadata['type'],
          metatype: metatypes[index] as ArgumentMetadata['metatype'],
          data: data as string | undefined,
        },
      });
      continue;
    }
    if (data !== undefined && typeof data !== 'string') return undefined;
    const metadata = (kind: 'body' | 'param' | 'query'): ArgumentMetadata => ({
      type: kind,
      metatype: metatypes[index] as ArgumentMetadata['metatype'],
      data,
    });
    switch (Number(key.split(':')[0]) as RouteParamtypes) {
      case RouteParamtypes.REQUEST:
        params.push({ index, extract: (request) => request, pipes: [], metadata: noPipes });
        break;
      case RouteParamtypes.RESPONSE:
        if (Reflect.getMetadata(RESPONSE_PASSTHROUGH_METADATA, type, name) !== true) return undefined;
        params.push({ index, extract: (_request, reply) => reply, pipes: [], metadata: noPipes });
        break;
      case RouteParamtypes.BODY:
        params.push({
          index,
          extract: (request) => (data ? (request.body as Record<string, unknown> | undefined)?.[data] : request.body),
          pipes: ownPipes,
          metadata: metadata('body'),
        });
        break;
      case RouteParamtypes.PARAM:
        params.push({
          index,
          extract: (request) => {
            const all = request.params as Record<string, string>;
            return data ? all[data] : all;
          },
          pipes: ownPipes,
          metadata: metadata('param'),
        });
        break;
      case RouteParamtypes.QUERY:
        params.push({
          index,
          extract: (request) => {
            const all = request.query as Record<string, unknown>;
            return data ? all[data] : all;
          },
          pipes: ownPipes,
          metadata: metadata('query'),
        });
        break;
      default:
        return undefined;
    }
  }
  return params;
}

/** Request and reply parameters: no pipe runs on them (Nest's `isPipeable`). */
const noPipes: ArgumentMetadata = { type: 'custom' };
