import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createDealstreamClient } from '@dealstream/client';
import { startConsoleHarness } from '../support/console-harness.js';

/**
 * The console's budget (issue 18), a benchmark, not a test — it never fails on the figures:
 * 1. initial JS: the page's module script and its modulepreloads, gzipped (budget 250 kB);
 * 2. a board of 7 stages × 50 cards on the embedded default: from navigation start until all 350
 *    cards are in the page with their handlers (React has committed; the drag handles exist), median
 *    of BENCH_RUNS loads (budget 1 s). Baseline in the same run: the same board's JSON fetched
 *    from the same API by the page itself (what no client can beat).
 */
const dist = join(process.cwd(), 'dist', 'console');
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const initial = [
  ...html.matchAll(/<script type="module"[^>]*src="([^"]+)"|<link rel="modulepreload"[^>]*href="([^"]+)"/g),
]
  .map((m) => m[1] ?? m[2])
  .map((src) => ({ src, gzip: gzipSync(readFileSync(join(dist, src))).length }));
const initialKb = initial.reduce((sum, file) => sum + file.gzip, 0) / 1000;
console.log(
  `initial JS: ${initialKb.toFixed(1)} kB gzipped (budget 250 kB) — ${initial.map((f) => `${f.src} ${(f.gzip / 1000).toFixed(1)} kB`).join(', ')}`,
);

const STAGES = 7;
const PER_STAGE = 50;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const harness = await startConsoleHarness();
try {
  const token = await harness.token(['admin'], 'bench');
  const api = createDealstreamClient({ baseUrl: harness.origin, token });
  const defined = await api.POST('/pipelines', {
    body: {
      name: 'Budget board',
      currency: 'EUR',
      stages: Array.from({ length: STAGES }, (_, i) => ({ name: `Stage ${i + 1}`, probability: 10 + i * 10 })),
    },
  });
  const pipelineId = defined.data!.id;
  const board = await api.GET('/pipelines/{id}/board', { params: { path: { id: pipelineId } } });
  const stageIds = board.data!.stages.map((stage) => stage.stageId);
  let position = '';
  for (const [s, stageId] of stageIds.entries()) {
    for (let d = 0; d < PER_STAGE; d++) {
      const created = await api.POST('/deals', {
        body: {
          pipelineId,
          stageId,
          title: `Deal ${s}-${d}`,
          account: `Account ${d}`,
          amount: 1000 + d,
          currency: 'EUR',
        },
      });
      position = created.data!.position;
    }
  }
  await api.GET('/pipelines/{id}/board', { params: { path: { id: pipelineId }, query: { minPosition: position } } });

  const context = await harness.browser.newContext({ viewport: { width: 1600, height: 1000 } });
  await context.addInitScript(`sessionStorage.setItem('dealstream.token', ${JSON.stringify(token)})`);
  const page = await context.newPage();
  const url = `${harness.origin}/#/pipelines/${pipelineId}`;
  const interactive: number[] = [];
  const fetches: number[] = [];
  for (let run = 0; run < RUNS + 1; run++) {
    await page.goto('about:blank');
    await page.goto(url);
    const cards = STAGES * PER_STAGE;
    // A function, not a string: the console's CSP forbids eval, also to Playwright. (This file has no DOM types.)
    await page.waitForFunction(
      (n) => {
        const dom = (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } })
          .document;
        return dom.querySelectorAll('li.deal').length === n && dom.querySelectorAll('button.handle').length === n;
      },
      cards,
      { timeout: 30_000 },
    );
    const ms = await page.evaluate(() => performance.now());
    const fetched = await page.evaluate(
      async ([id, bearer]) => {
        const started = performance.now();
        const answer = await fetch(`/pipelines/${id}/board?limit=50`, {
          headers: { Authorization: `Bearer ${bearer}` },
        });
        await answer.json();
        return performance.now() - started;
      },
      [pipelineId, token] as const,
    );
    if (run > 0) {
      // the first load warms the API's and the browser's caches
      interactive.push(ms);
      fetches.push(fetched);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  console.log(
    `board ${STAGES} × ${PER_STAGE} cards interactive: median ${median(interactive).toFixed(0)} ms after navigation (budget 1000 ms; runs ${interactive.map((v) => v.toFixed(0)).join(', ')}); ` +
      `baseline, the board's JSON alone: median ${median(fetches).toFixed(0)} ms; ratio ${(median(interactive) / median(fetches)).toFixed(1)}`,
  );
  await context.close();
} finally {
  await harness.close();
}
