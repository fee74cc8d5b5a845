import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// The adapter's fault handling rests on a reading of @eventstore/db-client 6.2.1's source (docs/eventstoredb.md,
// "Timeouts, faults and the client"): the module-level batch-append table that made it send each append on
// its own `Append` call (a deep import of `dist/streams/appendToStream/append.js`), how the client reconnects,
// which errors it converts. package.json pins that exact version; this fails on any other so that an upgrade
// re-reads that source and re-runs the fault tests rather than inheriting the conclusions.
describe('@eventstore/db-client version', () => {
  it('is exactly the 6.2.1 whose source the adapter was checked against', () => {
    const require = createRequire(import.meta.url);
    const manifest = JSON.parse(readFileSync(require.resolve('@eventstore/db-client/package.json'), 'utf8')) as {
      version: string;
    };
    expect(manifest.version).toBe('6.2.1');
    const root = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(root.dependencies['@eventstore/db-client']).toBe('6.2.1');
  });
});
