import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

export interface PostOutcome {
  readonly outcome: 'delivered' | 'failed' | 'timeout';
  readonly status: number | null;
  readonly error: string | null;
  readonly durationMs: number;
  /** The first 1 KB of the answer's body. */
  readonly excerpt: string | null;
  /** Seconds a 429/503 asked for (Retry-After), when it did. */
  readonly retryAfterSeconds?: number;
}

const EXCERPT_BYTES = 1024;

/**
 * One POST to a vetted target. The connection goes to one of `addresses` (already checked by the
 * TargetPolicy) whatever DNS answers now; redirects are not followed (a 3xx is a failure); the answer
 * is read up to 1 KB; the whole exchange is bounded by `timeoutMs`. 2xx is delivered.
 */
export function postWebhook(
  url: URL,
  addresses: readonly { address: string; family: number }[],
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<PostOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const lookup: LookupFunction = (_hostname, options, callback) => {
    if (options.all) (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [...addresses]);
    else callback(null, addresses[0].address, addresses[0].family);
  };
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: PostOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const client = url.protocol === 'https:' ? https : http;
    const request = client.request(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      lookup,
      agent: false,
    });
    const timer = setTimeout(() => {
      request.destroy();
      settle({
        outcome: 'timeout',
        status: null,
        error: `no answer within ${timeoutMs} ms`,
        durationMs: elapsed(),
        excerpt: null,
      });
    }, timeoutMs);
    request.on('error', (error) =>
      settle({
        outcome: 'failed',
        status: null,
        error: (error as NodeJS.ErrnoException).code ?? error.message,
        durationMs: elapsed(),
        excerpt: null,
      }),
    );
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = () => {
        const status = response.statusCode ?? 0;
        const ok = status >= 200 && status < 300;
        const retryAfter = Number(response.headers['retry-after']);
        settle({
          outcome: ok ? 'delivered' : 'failed',
          status,
          error: ok ? null : `HTTP ${status}`,
          durationMs: elapsed(),
          excerpt: size ? Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8') : null,
          ...((status === 429 || status === 503) && Number.isFinite(retryAfter) && retryAfter >= 0
            ? { retryAfterSeconds: retryAfter }
            : {}),
        });
        response.destroy();
      };
      response.on('data', (chunk: Buffer) => {
        if (size < EXCERPT_BYTES) chunks.push(chunk);
        size += chunk.length;
        if (size >= EXCERPT_BYTES) finish();
      });
      response.on('end', finish);
      response.on('error', finish);
    });
    request.end(body);
  });
}
