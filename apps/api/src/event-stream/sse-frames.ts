/*
 * The text/event-stream wire format (WHATWG HTML §9.2): fields `id:`, `data:`, `retry:`, comment
 * lines starting with `:`, a blank line ending each event. JSON.stringify never writes a raw line
 * break, so one `data:` line holds the whole event.
 */

/** One event: `id:` is its feed cursor (what `Last-Event-ID` / `?after=` resume from), `data:` its JSON view. */
export function eventFrame(id: string, data: unknown): string {
  return `id: ${id}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A comment line: ignored by every client, keeps proxies and load balancers from closing an idle stream. */
export function heartbeatFrame(): string {
  return `: heartbeat\n\n`;
}

/** The first frame: how long a client waits before reconnecting (ms), and a comment that flushes the headers. */
export function openingFrame(retryMs: number): string {
  return `retry: ${retryMs}\n: stream open\n\n`;
}
