// Jest's globalSetup / globalTeardown for the int and e2e tiers (jest.config.js): one private
// PostgreSQL server per jest worker, so that test files running side by side share no server.
//
// Why: the SQL store's readAll stops at the server-wide visibility horizon (docs/event-store.md), so
// on one shared server a transaction of another worker's test file (an import, a bulk write, a test
// holding one open on purpose) holds back every other file's reads and projections for as long as it
// runs: tests waited tens of seconds, or ran out of their bound, depending on what ran beside them.
// With a server per worker only the file itself can hold its horizon, as in production with one app
// per database. (Plain JavaScript: jest loads this file in its main process, untransformed.)
//
// The servers are made like the fault tests' (test/support/private-postgres.ts): `initdb` into a
// temporary directory, `pg_ctl` on a free port of 127.0.0.1, trust auth for `postgres`, as the
// `postgres` OS user when run as root; fsync off (thrown away after the run) and autovacuum off (its
// transactions would hold the horizon too; libs/event-store's plan test wants tables nobody analyzes).
// Their URLs go to the workers in TEST_POSTGRES_URLS; test/support/test-database.ts takes its
// worker's. Setting TEST_POSTGRES_URL runs every file on that one server instead and starts nothing.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
const servers = [];

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function run(dir, binary, args) {
  const command = join(PG_BIN, binary);
  const result =
    process.getuid?.() === 0
      ? spawnSync('runuser', ['-u', 'postgres', '--', command, ...args], { encoding: 'utf8', cwd: dir })
      : spawnSync(command, args, { encoding: 'utf8', cwd: dir });
  if (result.status !== 0)
    throw new Error(`${binary} ${args.join(' ')} failed (${result.status}): ${result.stderr || result.stdout}`);
}

async function startServer() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ds-test-pg-'));
  chmodSync(dir, 0o777);
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres', dir]);
  const data = join(dir, 'data');
  const server = { dir, data, url: `postgres://postgres@127.0.0.1:${port}/postgres` };
  servers.push(server);
  run(dir, 'initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  // e2e files open up to ~50 connections at once (the app's pool of 20, the harness's, a second app).
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off -c autovacuum=off -c max_connections=200`;
  run(dir, 'pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-o', options, '-w', '-t', '60', 'start']);
  return server;
}

function stopServers() {
  for (const server of servers.splice(0)) {
    try {
      run(server.dir, 'pg_ctl', ['-D', server.data, '-m', 'immediate', '-w', '-t', '60', 'stop']);
    } catch {
      // never started, or already stopped
    }
    rmSync(server.dir, { recursive: true, force: true });
  }
}

export async function setup(globalConfig) {
  if (process.env.TEST_POSTGRES_URL || process.env.TEST_POSTGRES_URLS) return; // given, or started by the other tier
  const workers = Math.max(1, globalConfig.maxWorkers);
  const started = Date.now();
  process.on('exit', stopServers); // also when the run ends without its teardown
  try {
    await Promise.all(Array.from({ length: workers }, startServer));
  } catch (error) {
    stopServers();
    throw error;
  }
  process.env.TEST_POSTGRES_URLS = servers.map((server) => server.url).join(' ');
  console.log(`\n${workers} private PostgreSQL server(s), one per jest worker, started in ${Date.now() - started} ms`);
}

export function teardown() {
  stopServers();
}
