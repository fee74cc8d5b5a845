import { SetMetadata, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Role } from '@dealstream/auth';

export const PUBLIC_ROUTE = 'dealstream:public';

/** The authenticated caller, as the token says. */
export interface Principal {
  readonly actorId: string;
  readonly roles: readonly Role[];
  /** The token's `exp` (seconds since the epoch): a long-lived response (an event stream) ends there. */
  readonly expiresAt?: number;
}

/** Marks a route that needs no token (health, the OpenAPI document). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/** Injects the authenticated principal into a handler parameter. */
export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  return context.switchToHttp().getRequest<{ principal: Principal }>().principal;
});
