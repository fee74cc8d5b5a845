import { randomUUID } from 'node:crypto';
import {
  HttpException,
  Inject,
  Injectable,
  Logger,
  SetMetadata,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import type { HttpReply, HttpRequest } from '../controller-kit/http-exchange.js';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { isDomainError } from '@dealstream/decider';
import { ContentionDeadlineError, NotFoundError, PreconditionFailedError } from '@dealstream/command-handling';
import { isEventStoreError } from '@dealstream/event-store';
import { correlationOf } from '../logging/correlation-id.js';
import { ApiProblem } from '../problem/api-problem.js';
import { idempotencyOf, type RequestFingerprint } from './idempotency-key.js';
import { IdempotencyKeyStore, type StoredResponse } from './idempotency-key.store.js';

const NOT_KEYED = Symbol.for('dealstream.NotKeyedByIdempotencyKey');

/**
 * A POST whose answer is never kept for an Idempotency-Key replay: an import (its body is streamed,
 * never parsed, so no key can be bound to it; it is idempotent by source ids and refuses the header)
 * and the console sign-in (its answer is a token: a replay would make a one-time code good twice).
 */
export const NotKeyed = () => SetMetadata(NOT_KEYED, true);

export const IDEMPOTENCY_OPTIONS = Symbol.for('dealstream.IdempotencyOptions');
export const IDEMPOTENCY_KEY_STORE = Symbol.for('dealstream.IdempotencyKeyStore');

export interface IdempotencyOptions {
  /** How long a request holds its key before an identical request may take it over (a crash's bound). */
  readonly leaseMs: number;
  /** How long an identical request waits for the one in flight before 409 `idempotency-key-in-flight`. */
  readonly waitMs: number;
  /** Keys first used longer ago than this may be purged (hourly). */
  readonly retentionMs: number;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Headers of the first answer that are replayed with it. */
const REPLAYED_HEADERS = ['ETag', 'Location'];

/**
 * Idempotency-Key as draft-ietf-httpapi-idempotency-key-header describes it, on every write route:
 * the key is scoped to (actor, key) and bound to its first request's method, route, target and
 * canonical body hash. The same request again → the first answer (status, body, ETag, Location,
 * `Idempotent-Replayed: true`); a different one → 422 `idempotency-key-reused`, nothing written.
 * Details and the failure cases: README "Idempotency-Key".
 *
 * Plain async code, so that both the command routes' lean handlers (controller-kit/lean-routes.ts)
 * and the Nest interceptor below (every other write route) run the same steps.
 */
@Injectable()
export class IdempotentWrites {
  private readonly logger = new Logger('Idempotency');

  constructor(
    @Inject(IDEMPOTENCY_KEY_STORE) private readonly store: IdempotencyKeyStore,
    @Inject(IDEMPOTENCY_OPTIONS) private readonly options: IdempotencyOptions,
  ) {}

  /**
   * Runs `handle` (validation and the route's handler) under the request's Idempotency-Key, if it
   * carries one: `status` is the route's success status, recorded with the answer. Without a key,
   * or on a route that is not keyed, it is just `handle()`.
   */
  async run(
    request: HttpRequest,
    response: HttpReply,
    status: number,
    handle: () => Promise<unknown>,
  ): Promise<unknown> {
    if (!WRITE_METHODS.has(request.method.toUpperCase())) return handle();
    const keyed = idempotencyOf(request);
    if (!keyed) return handle();
    const fp = keyed.fingerprint;
    const leaseToken = randomUUID();
    const claim = await this.claim(fp, leaseToken).catch(async (error: unknown) => {
      // The database may have written the claim and lost its answer (a restart between commit and
      // reply): end whatever lease this token holds, as after any 5xx, or every retry would wait on a
      // lease that no request runs under and answer 409 until it expires.
      if (!(error instanceof ApiProblem)) await this.settle(fp, leaseToken, false);
      throw error;
    });
    if (claim.kind === 'completed') return replay(response, claim.response);
    let body: unknown;
    try {
      body = await handle();
    } catch (error) {
      await this.settle(fp, leaseToken, nothingWritten(error));
      throw error;
    }
    const headers = Object.fromEntries(
      REPLAYED_HEADERS.flatMap((name) =>
        response.getHeader(name) !== undefined ? [[name, String(response.getHeader(name))]] : [],
      ),
    );
    // Recorded before the answer leaves: a retry that follows it always finds it.
    const recorded = await this.store.complete(fp, leaseToken, { status, headers, body }).catch((error: unknown) => {
      this.logger.warn(
        correlationOf(request),
        `could not record the answer of Idempotency-Key ${fp.key}: ${String(error)}`,
      );
      return false;
    });
    // Not recorded: the lease expires and a retry re-executes; derived event ids make it a replay.
    if (!recorded)
      this.logger.warn(
        correlationOf(request),
        `Idempotency-Key ${fp.key} of ${fp.actorId} lost its lease before completing`,
      );
    return body;
  }

  /**
   * Gives the key back after a failed request: released when nothing was written, else abandoned
   * (only the identical request may take it over). When the database itself is what failed (a
   * restart), that update fails too: it is retried in the background until the lease would have
   * expired anyway, so a client's retry (which waits for a request in flight) takes the key over as
   * soon as the database is back instead of getting 409 until the lease runs out.
   */
  private async settle(fp: RequestFingerprint, leaseToken: string, released: boolean): Promise<void> {
    const attempt = () => (released ? this.store.release(fp, leaseToken) : this.store.abandon(fp, leaseToken));
    try {
      await attempt();
    } catch {
      const giveUpAt = Date.now() + this.options.leaseMs;
      void (async () => {
        for (let pause = 100; Date.now() < giveUpAt; pause = Math.min(pause * 2, 2000)) {
          await new Promise((resolve) => setTimeout(resolve, pause).unref());
          if (
            await attempt().then(
              () => true,
              () => false,
            )
          )
            return;
        }
      })();
    }
  }

  /** Claims the key; waits (bounded) while an identical request is in flight. */
  private async claim(
    fp: RequestFingerprint,
    leaseToken: string,
  ): Promise<Exclude<Awaited<ReturnType<IdempotencyKeyStore['claim']>>, { kind: 'mismatch' | 'in-flight' }>> {
    const deadline = Date.now() + this.options.waitMs;
    for (let pause = 5; ; pause = Math.min(pause * 2, 200)) {
      const claim = await this.store.claim(fp, this.options.leaseMs, leaseToken);
      if (claim.kind === 'mismatch') {
        throw new ApiProblem(
          422,
          'idempotency-key-reused',
          `This Idempotency-Key was first used for ${claim.first.method} ${claim.first.target} with another body; a key names one request. Nothing was written.`,
        );
      }
      if (claim.kind !== 'in-flight') return claim;
      if (Date.now() + pause > deadline) {
        throw new ApiProblem(
          409,
          'idempotency-key-in-flight',
          'The first request with this Idempotency-Key is still being processed; retry it later',
          {},
          { 'Retry-After': '1' },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, pause * (0.5 + Math.random() / 2)));
    }
  }
}

/** The write routes Nest serves (all but the command routes): IdempotentWrites around Nest's handler. */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(private readonly writes: IdempotentWrites) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<HttpRequest>();
    if (!WRITE_METHODS.has(request.method.toUpperCase())) return next.handle();
    if (isNotKeyed(context.getHandler())) return next.handle();
    if (!idempotencyOf(request)) return next.handle();
    const response = context.switchToHttp().getResponse<HttpReply>();
    return from(
      this.writes.run(request, response, successStatusOf(request.method, context.getHandler()), () =>
        lastValueFrom(next.handle()),
      ),
    );
  }
}

/** Whether the route handler is marked @NotKeyed. */
export function isNotKeyed(handler: object): boolean {
  return Reflect.getMetadata(NOT_KEYED, handler) === true;
}

/** The status a route answers on success: its @HttpCode, else 201 for POST and 200 for the others (Nest's rule). */
export function successStatusOf(method: string, handler: object): number {
  return (
    (Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined) ??
    (method.toUpperCase() === 'POST' ? 201 : 200)
  );
}

function replay(response: HttpReply, stored: StoredResponse): unknown {
  response.status(stored.status);
  for (const [name, value] of Object.entries(stored.headers)) response.header(name, value);
  response.header('Idempotent-Replayed', 'true');
  return stored.body;
}

/** Refusals raised before anything is appended: the key is released and may be used again. */
function nothingWritten(error: unknown): boolean {
  if (
    isDomainError(error) ||
    error instanceof NotFoundError ||
    error instanceof PreconditionFailedError ||
    error instanceof ContentionDeadlineError
  )
    return true;
  if (isEventStoreError(error, 'wrong-expected-revision') || isEventStoreError(error, 'idempotency-conflict'))
    return true;
  if (error instanceof ApiProblem) return error.status < 500;
  if (error instanceof HttpException) return error.getStatus() < 500;
  return false;
}
