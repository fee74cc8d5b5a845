import { createHash } from 'node:crypto';

/**
 * Counts the open streams per bearer token on this instance and refuses one beyond the bound. The
 * key is a SHA-256 of the token, so no token is kept in memory longer than its request.
 */
export class StreamSlots {
  private readonly open = new Map<string, number>();

  constructor(private readonly maxPerToken: number) {}

  static keyOf(token: string): string {
    return createHash('sha256').update(token).digest('hex');
  }

  /** A release function for the slot taken, or undefined when the token holds its bound already. */
  tryAcquire(key: string): (() => void) | undefined {
    const held = this.open.get(key) ?? 0;
    if (held >= this.maxPerToken) return undefined;
    this.open.set(key, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const now = (this.open.get(key) ?? 1) - 1;
      if (now === 0) this.open.delete(key);
      else this.open.set(key, now);
    };
  }

  /** Streams open on this instance, every token together. */
  total(): number {
    let sum = 0;
    for (const n of this.open.values()) sum += n;
    return sum;
  }
}
