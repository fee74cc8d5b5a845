import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { routeTemplateOf, type HttpRequest } from '../controller-kit/http-exchange.js';
import { ApiProblem } from '../problem/api-problem.js';
import { PUBLIC_ROUTE, type Principal } from './auth.decorators.js';
import type { VerificationKey } from './auth-keys.js';
import { VerifiedTokenCache } from './verified-token-cache.js';
import {
  DEFAULT_TOKEN_POLICY,
  GRANTS,
  isRole,
  isUsableSubject,
  permissionOfRoute,
  tokenTimeProblem,
  type TokenPolicy,
} from '@dealstream/auth';

export const VERIFICATION_KEY = Symbol('VERIFICATION_KEY');
export const AUTH_OPTIONS = Symbol('AUTH_OPTIONS');

export interface AuthOptions {
  readonly issuer?: string;
  readonly audience?: string;
  /** Lifetime bound and clock skew; DEFAULT_TOKEN_POLICY when absent. */
  readonly tokenPolicy?: TokenPolicy;
  /** METRICS_TOKEN: a static bearer accepted on the `metrics:scrape` route only (Prometheus scrapers mint no JWTs). */
  readonly metricsToken?: string;
}

/**
 * `Authorization: <scheme> <token>` with the scheme `Bearer` in any case (RFC 9110 §11.1: schemes
 * are case-insensitive) and a JWS compact token.
 */
const BEARER = /^bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;

/**
 * Authenticates every route not marked @Public with `Authorization: Bearer <JWT>` and checks the
 * route's permission in the role matrix (ROUTE_PERMISSIONS, GRANTS in libs/auth/src/roles.ts)
 * against the token's roles. 401 for a missing, malformed, forged or expired token, one that lives
 * longer than AUTH_MAX_TOKEN_LIFETIME, is issued in the future, or whose `sub` cannot be recorded as
 * an actor; 403 for a valid token without the role. Routes missing from the matrix are refused
 * (fail closed).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly policy: TokenPolicy;
  /** Tokens verified before, until their `exp` (VerifiedTokenCache): one signature check per token, not per request. */
  private readonly verified = new VerifiedTokenCache();

  constructor(
    private readonly reflector: Reflector,
    @Inject(VERIFICATION_KEY) private readonly key: VerificationKey,
    @Inject(AUTH_OPTIONS) private readonly options: AuthOptions,
  ) {
    this.policy = options.tokenPolicy ?? DEFAULT_TOKEN_POLICY;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    const request = context
      .switchToHttp()
      .getRequest<HttpRequest & { headers: Record<string, string | undefined>; raw: { principal?: Principal } }>();
    // The matched route's pattern, e.g. '/deals/:id': the key of the matrix.
    const route = routeTemplateOf(request);
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) {
      // Public routes need no token, but one that verifies still says who calls (admins see /health details).
      if (request.headers.authorization)
        identify(request, await this.authenticate(request.headers.authorization).catch(() => undefined));
      return true;
    }
    if (
      request.headers.authorization === undefined &&
      request.query &&
      Object.keys(request.query).some((name) => /^access_token$/i.test(name))
    ) {
      // RFC 6750 §2.3 (URI query parameter) is not supported: URLs end up in logs, proxies and histories.
      throw unauthorized(
        'Send the token in the Authorization header; a token in the URL is refused (and redacted from logs)',
      );
    }
    if (
      this.options.metricsToken &&
      route !== undefined &&
      permissionOfRoute(request.method, route) === 'metrics:scrape' &&
      isStaticBearer(request.headers.authorization, this.options.metricsToken)
    )
      return true;
    const principal = await this.authenticate(request.headers.authorization);
    identify(request, principal);
    const permission = route === undefined ? undefined : permissionOfRoute(request.method, route);
    if (!permission) throw new ApiProblem(403, 'forbidden', 'This route is not open to any role');
    if (!principal.roles.some((role) => GRANTS[permission].includes(role))) {
      throw new ApiProblem(403, 'forbidden', `Requires one of the roles ${GRANTS[permission].join(', ')}`, {
        requiredPermission: permission,
      });
    }
    return true;
  }

  private async authenticate(header: string | undefined): Promise<Principal> {
    const match = BEARER.exec(header ?? '');
    if (!match)
      throw unauthorized(
        header ? 'The Authorization header is not a Bearer JWT' : 'Authorization: Bearer <JWT> is required',
      );
    const key = VerifiedTokenCache.keyOf(match[1]);
    const known = this.verified.get(key, Math.floor(Date.now() / 1000));
    if (known) return known;
    let payload: JWTPayload;
    try {
      const verifyOptions = {
        issuer: this.options.issuer,
        audience: this.options.audience,
        requiredClaims: ['sub', 'exp'],
        clockTolerance: this.policy.clockSkewSeconds,
      };
      payload =
        this.key.kind === 'secret'
          ? (await jwtVerify(match[1], this.key.secret, { ...verifyOptions, algorithms: ['HS256'] })).payload
          : (await jwtVerify(match[1], this.key.key, { ...verifyOptions, algorithms: this.key.algorithms })).payload;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw unauthorized('The token has expired');
      throw unauthorized('The token is invalid');
    }
    const timeProblem = tokenTimeProblem(payload, Math.floor(Date.now() / 1000), this.policy);
    if (timeProblem) throw unauthorized(timeProblem);
    if (!isUsableSubject(payload.sub)) throw unauthorized('The token has no usable sub');
    const roles = Array.isArray(payload.roles) ? payload.roles.filter(isRole) : [];
    const principal = { actorId: payload.sub, roles, expiresAt: payload.exp };
    // exp is a finite number here: tokenTimeProblem refuses a token without one.
    this.verified.set(key, principal, payload.exp!);
    return principal;
  }
}

/** `Bearer <token>`, compared in constant time (over digests, so the length leaks nothing either). */
function isStaticBearer(header: string | undefined, token: string): boolean {
  const match = /^bearer +(\S+)$/i.exec(header ?? '');
  if (!match) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(match[1]), digest(token));
}

function unauthorized(detail: string): ApiProblem {
  return new ApiProblem(401, 'unauthorized', detail, {}, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
}

/** Who calls, for the handlers (the Fastify request) and the request log (the Node request under it). */
function identify(request: HttpRequest & { raw: { principal?: Principal } }, principal: Principal | undefined): void {
  request.principal = principal;
  request.raw.principal = principal;
}
