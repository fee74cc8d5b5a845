import type { OpenAPIObject } from '@nestjs/swagger';
import { GRANTS, PERMISSIONS, ROLES, permissionOfRoute, type Permission } from '@dealstream/auth';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/**
 * Writes the role matrix into the OpenAPI document, so the document cannot disagree with the
 * guard: every operation in ROUTE_PERMISSIONS gets `security: bearer`, `x-permission`, `x-roles`
 * and an "Access" paragraph in its description (with the pseudonym note where ids are shown);
 * every other operation is public (`security: []`).
 */
export function applyRoleMatrix(document: OpenAPIObject): OpenAPIObject {
  const pseudonymous = ROLES.filter((role) => !GRANTS['identities:clear'].includes(role));
  for (const [path, item] of Object.entries(document.paths)) {
    const expressPath = path.replace(/\{([^}]+)\}/g, ':$1');
    for (const method of METHODS) {
      const operation = (item as Record<string, Record<string, unknown> | undefined>)[method];
      if (!operation) continue;
      const permission: Permission | undefined = permissionOfRoute(method, expressPath);
      if (!permission) {
        operation.security = [];
        continue;
      }
      const roles = GRANTS[permission];
      operation.security = [{ bearer: [] }];
      operation['x-permission'] = permission;
      operation['x-roles'] = [...roles];
      const readers = roles.filter((role) => pseudonymous.includes(role));
      const note =
        method === 'get' && readers.length
          ? ` Owner and actor ids in the answer are stable pseudonyms (\`anon-…\`) for ${readers.join(', ')} (no \`identities:clear\`).`
          : '';
      const access = `**Access:** roles ${roles.map((role) => `\`${role}\``).join(', ')} (permission \`${permission}\`: ${PERMISSIONS[permission].why})${note} Others get 403.`;
      operation.description = operation.description ? `${operation.description as string}\n\n${access}` : access;
    }
  }
  return document;
}
