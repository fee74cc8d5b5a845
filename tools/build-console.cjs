// Builds the web console (apps/console → dist/console) with Vite when the build is missing or older
// than any of its sources; otherwise does nothing. `npm start` and `npm test` build through it, so a
// start after a fresh clone builds the console once and later starts skip it.
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const built = join(root, 'dist', 'console', 'index.html');
const sources = [
  join(root, 'apps', 'console'),
  join(root, 'libs', 'client', 'src'),
  join(root, 'libs', 'auth', 'src', 'roles.ts'),
  join(root, 'package-lock.json'),
];

function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((latest, name) => Math.max(latest, newest(join(path, name))), stat.mtimeMs);
}

const stale = !existsSync(built) || sources.some((source) => newest(source) > statSync(built).mtimeMs);
if (stale) {
  const started = Date.now();
  execFileSync(
    process.execPath,
    [
      join(root, 'node_modules', 'vite', 'bin', 'vite.js'),
      'build',
      '--config',
      join(root, 'apps', 'console', 'vite.config.js'),
    ],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  console.log(`console built into dist/console in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
