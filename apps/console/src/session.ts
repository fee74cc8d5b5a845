import { PERMISSIONS, ROLES, type Permission, type Role } from '@dealstream/auth/roles';

/** A signed-in user as the token says: the console never verifies it (the API does, on every call). */
export interface Session {
  readonly token: string;
  readonly subject: string;
  readonly roles: readonly Role[];
  readonly expiresAt: Date;
}

const TOKEN_KEY = 'dealstream.token';

/** What the token's roles may do, from the same role matrix the API's guard enforces. */
export function can(session: Session, permission: Permission): boolean {
  const allowed: readonly string[] = PERMISSIONS[permission].roles;
  return session.roles.some((role) => allowed.includes(role));
}

/** Reads a token's claims; a message when it is not a usable token. */
export function sessionOf(token: string, now = new Date()): Session | string {
  const parts = token.trim().split('.');
  if (parts.length !== 3 || !parts[1]) return 'That is not a token: a JWT has three parts separated by dots.';
  let claims: { sub?: unknown; roles?: unknown; exp?: unknown };
  try {
    claims = JSON.parse(base64UrlDecode(parts[1])) as typeof claims;
  } catch {
    return 'That token cannot be read (its claims are not JSON).';
  }
  if (typeof claims.sub !== 'string' || !claims.sub) return 'The token names no user (claim sub).';
  if (typeof claims.exp !== 'number') return 'The token has no expiry (claim exp); the API refuses it.';
  const expiresAt = new Date(claims.exp * 1000);
  if (expiresAt <= now) return `The token expired at ${expiresAt.toLocaleString()}; get a new one.`;
  const roles = Array.isArray(claims.roles)
    ? claims.roles.filter((role): role is Role => (ROLES as readonly unknown[]).includes(role))
    : [];
  if (roles.length === 0) return 'The token carries no role the API knows (claim roles).';
  return { token: token.trim(), subject: claims.sub, roles, expiresAt };
}

function base64UrlDecode(text: string): string {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

/**
 * The sign-in URL `npm start` prints carries a one-time code in the fragment (`#sign-in=…`), which no
 * browser sends to a server. Take it and remove it from the address bar and the history, so it is
 * not bookmarked or shared by accident; the console trades it for a token (POST /console/sign-in).
 */
export function takeSignInCodeFromUrl(): string | undefined {
  const match = /^#sign-in=([^&]+)/.exec(window.location.hash);
  if (!match?.[1]) return undefined;
  window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}#/`);
  return decodeURIComponent(match[1]);
}

export function storedToken(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

export function storeToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}
