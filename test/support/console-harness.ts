import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { mintToken, type Role } from '@dealstream/auth';

/** Debian's Chromium (`.ci/run` installs it when missing); never a browser Playwright downloads. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * On these closed-network machines Chromium must not reach for Google's services (each refused
 * connection costs time), nor need a sandbox (tests run as root). Playwright gives every launch a
 * fresh, empty profile directory (its --user-data-dir) and adds --headless.
 */
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const ARTEFACTS = join(process.cwd(), 'test-artifacts', 'console');

export interface ConsoleHarness {
  readonly browser: Browser;
  /** The sign-in URL `npm start`'s process printed. */
  readonly signInUrl: string;
  readonly origin: string;
  readonly token: (roles: Role[], subject: string, expiresIn?: string) => Promise<string>;
  close(): Promise<void>;
}

/**
 * The built API exactly as `npm start` runs it (dist/apps/api/src/main.js, embedded PGlite in a
 * fresh DATA_DIR, the console from dist/console) on a free port, and one headless Chromium.
 */
export async function startConsoleHarness(): Promise<ConsoleHarness> {
  const main = join(process.cwd(), 'dist', 'apps', 'api', 'src', 'main.js');
  if (!existsSync(main) || !existsSync(join(process.cwd(), 'dist', 'console', 'index.html')))
    throw new Error('Build first (npm run build): the browser tests run the built API and console');
  if (!existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: apt-get install -y chromium`);
  mkdirSync(ARTEFACTS, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'dealstream-console-browser-'));
  const server = spawn(process.execPath, [main], {
    env: { ...process.env, DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn', CONSOLE_DIR: 'dist/console' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const signInUrl = await printedSignInUrl(server);
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    const secret = readFileSync(join(dataDir, 'auth-secret'), 'utf8').trim();
    return {
      browser,
      signInUrl,
      origin: new URL(signInUrl).origin,
      token: (roles, subject, expiresIn = '1h') => mintToken({ subject, roles, secret, expiresIn }),
      close: async () => {
        await browser.close();
        await stop(server);
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stop(server);
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

function printedSignInUrl(server: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no sign-in URL printed within 60 s:\n${out}\n${err}`)), 60_000);
    server.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    server.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /(http:\/\/localhost:\d+\/#sign-in=[\w-]{43})/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    server.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the API exited (${code}) before printing a sign-in URL:\n${out}\n${err}`));
    });
  });
}

async function stop(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
  clearTimeout(timer);
  if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  server.stdout?.destroy();
  server.stderr?.destroy();
}
