import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';

/** One POST as the receiver saw it. */
export interface ReceivedWebhook {
  readonly id: string;
  readonly timestamp: number;
  readonly signature: string;
  readonly body: string;
  /** The W3C traceparent header, when sent. */
  readonly traceparent: string | undefined;
  readonly at: number;
  /** What the receiver answered. */
  readonly status: number;
}

/**
 * A real HTTP receiver on 127.0.0.1 for the webhook tests: records every request, answers what
 * `answer` says (200 by default), and can go down and come back on the same port.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  answer: (request: { id: string; body: string }) => number = () => 200;
  private server: http.Server | undefined;
  private port = 0;

  async start(): Promise<string> {
    const server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const id = String(request.headers['webhook-id']);
        const status = this.answer({ id, body });
        this.received.push({
          id,
          timestamp: Number(request.headers['webhook-timestamp']),
          signature: String(request.headers['webhook-signature']),
          body,
          traceparent: typeof request.headers.traceparent === 'string' ? request.headers.traceparent : undefined,
          at: Date.now(),
          status,
        });
        response.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'not now');
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return `http://127.0.0.1:${this.port}/hooks/dealstream`;
  }

  /** Down: new connections are refused until `start()` listens on the same port again. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The accepted deliveries' event ids in arrival order. */
  deliveredEventIds(): string[] {
    return this.received.filter((r) => r.status < 300).map((r) => (JSON.parse(r.body) as { eventId: string }).eventId);
  }
}

/**
 * Verifies a delivery with the Standard Webhooks reference library (`standardwebhooks`, the
 * specification's own TypeScript implementation), independently of libs/webhooks: the key is the
 * base64 after `whsec_`, the signed content `${id}.${timestamp}.${body}`, the header space-separated
 * `v1,<base64 HMAC-SHA256>` entries of which one must match, the timestamp within 5 minutes of now.
 */
export function verifyStandardWebhook(secret: string, received: ReceivedWebhook): boolean {
  try {
    new Webhook(secret).verify(received.body, {
      'webhook-id': received.id,
      'webhook-timestamp': String(received.timestamp),
      'webhook-signature': received.signature,
    });
    return true;
  } catch (error) {
    if (error instanceof WebhookVerificationError) return false;
    throw error;
  }
}

/** Polls `check` every 50 ms until it holds or `timeoutMs` passes (then throws with `what`). */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
