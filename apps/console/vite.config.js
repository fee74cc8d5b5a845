// Vite builds the console into dist/console, which the API serves at `/` (apps/api/src/console).
// JSX is compiled by Vite's own transformer (React's automatic runtime, from tsconfig "jsx"); no
// Fast Refresh plugin is needed for a build served by the API.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/',
  publicDir: false,
  resolve: {
    alias: {
      '@dealstream/client': here('../../libs/client/src/index.ts'),
      // The role matrix is plain data (no imports): the console hides what the token's roles may not do.
      '@dealstream/auth/roles': here('../../libs/auth/src/roles.ts'),
    },
  },
  build: {
    outDir: here('../../dist/console'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    reportCompressedSize: true,
  },
  logLevel: 'warn',
});
