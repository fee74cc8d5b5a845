import { SetMetadata, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Permission, Role } from '@dealstream/auth';

export const PUBLIC_ROUTE = 'dealstream:public';
export const REQUIRED_PERMISSION = 'dealstream:permission';

/** The authenticated caller, as the token says. */
export interface Principal {
  readonly actorId: string;
  readonly roles: readonly Role[];
}

/** Marks a route that needs no token (health, the OpenAPI document). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/** The permission a route needs; see GRANTS for which roles hold it. */
export const RequirePermission = (permission: Permission) => SetMetadata(REQUIRED_PERMISSION, permission);

/** Injects the authenticated principal into a handler parameter. */
export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  return context.switchToHttp().getRequest<{ principal: Principal }>().principal;
});
