// Runs npm scripts side by side, at most `--jobs` at a time (default 2: the build machines have two
// cores), in the order given; each script's output is printed in one piece when it ends, with how long
// it took. Exits 1 if any script failed (after all of them ran, so one run shows every failure).
//
//   node tools/run-parallel.cjs --jobs 2 typecheck lint format:check
//
// `npm test` runs its static checks and the build through it (see README "Tests").
const { spawn } = require('node:child_process');

const args = process.argv.slice(2);
let jobs = 2;
const scripts = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--jobs') jobs = Number(args[++i]);
  else scripts.push(args[i]);
}
if (!Number.isInteger(jobs) || jobs < 1 || scripts.length === 0) {
  console.error('usage: node tools/run-parallel.cjs [--jobs N] <npm script>...');
  process.exit(2);
}

const npm = process.env.npm_execpath;
const started = Date.now();
const failed = [];
let next = 0;

function run(script) {
  return new Promise((resolve) => {
    const begin = Date.now();
    // npm_execpath is npm's own CLI when run from an npm script; plain `npm` otherwise.
    const [command, prefix] = npm ? [process.execPath, [npm]] : ['npm', []];
    const child = spawn(command, [...prefix, 'run', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const output = [];
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding('utf8');
      stream.on('data', (text) => output.push(text));
    }
    child.on('close', (code, signal) => {
      const seconds = ((Date.now() - begin) / 1000).toFixed(1);
      process.stdout.write(output.join(''));
      const outcome = code === 0 ? 'ok' : `FAILED (${signal ?? `exit ${code}`})`;
      console.log(`[run-parallel] ${script}: ${outcome} in ${seconds} s`);
      if (code !== 0) failed.push(script);
      resolve();
    });
  });
}

async function worker() {
  while (next < scripts.length) await run(scripts[next++]);
}

Promise.all(Array.from({ length: Math.min(jobs, scripts.length) }, worker)).then(() => {
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (failed.length > 0) {
    console.error(`[run-parallel] failed: ${failed.join(', ')} (${seconds} s in all)`);
    process.exit(1);
  }
  console.log(`[run-parallel] all ${scripts.length} passed in ${seconds} s`);
});
