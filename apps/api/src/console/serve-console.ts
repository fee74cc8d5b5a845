import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * The web console (apps/console, built by Vite into CONSOLE_DIR) is static files on the API's own
 * origin: `/` is its page, `/assets/*` its hashed bundles. They are not API routes — no token, no
 * OpenAPI operation — and any other path falls through to the API (an unknown one is still a 404
 * problem+json). Only GET and HEAD are answered here.
 *
 * @returns whether the console is served (false when CONSOLE_DIR holds no build)
 */
export function serveConsole(app: NestFastifyApplication, consoleDir: string): boolean {
  const root = resolve(consoleDir);
  if (!existsSync(join(root, 'index.html'))) return false;
  void app.register(fastifyStatic, {
    root,
    // One route per file of the build (read at start): any other path is left to the API's router.
    wildcard: false,
    index: 'index.html',
    redirect: false,
    dotfiles: 'ignore',
    etag: true,
    setHeaders: (reply, path) => {
      // The page loads only its own bundles and talks only to this origin; the token it holds
      // (session storage) is worth a strict policy.
      reply.header('Content-Security-Policy', CONSOLE_CSP);
      reply.header('X-Content-Type-Options', 'nosniff');
      reply.header('Referrer-Policy', 'no-referrer');
      // Bundles carry a content hash in their names; the page itself must be revalidated.
      reply.header(
        'Cache-Control',
        path.includes(`${root}/assets/`) ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
  return true;
}

const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The console's static paths: the page and its bundles (the API has no route under them). */
export const CONSOLE_PATHS = /^\/(index\.html|favicon\.svg|assets\/[^/]+)?$/;
