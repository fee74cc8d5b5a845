/**
 * How appends are grouped into one statement (docs/event-store.md, "Group commit").
 * - `maxAppends`: a group holds at most this many appends; a full queue starts a group at once.
 * - `maxInFlight`: while fewer groups than this are running, a new group starts at the end of the
 *   current event-loop turn (so appends made in the same turn share it, and a lone append waits
 *   for nobody).
 * - `waitMs`: while `maxInFlight` groups are running, appends queue for the next group, which
 *   starts when one of those returns or `waitMs` after the first of them queued, whichever is first.
 * - `lingerMs` (default 0): an append that arrives to an empty queue while fewer than `maxInFlight`
 *   groups run waits this long for company before its group starts (unless the group fills, or a
 *   running group returns first) — fewer, larger statements when appends arrive one at a time, for
 *   up to this much latency each. 0 = the end of the event-loop turn, as without it.
 */
export interface GroupCommitOptions {
  readonly waitMs: number;
  readonly maxAppends: number;
  readonly maxInFlight: number;
  readonly lingerMs?: number;
}

export const DEFAULT_GROUP_COMMIT: GroupCommitOptions = { waitMs: 2, maxAppends: 64, maxInFlight: 2, lingerMs: 0 };

/**
 * One request's outcome: each member of a group is answered on its own — now, or `later` (a member
 * the group handed on, e.g. to a call of its own, is answered when that ends, without holding up the
 * group's other members).
 */
export type Settlement<R> =
  | { readonly ok: true; readonly value: R }
  | { readonly ok: false; readonly error: unknown }
  | { readonly later: Promise<R> };

interface Pending<T, R> {
  readonly request: T;
  readonly keys: readonly string[];
  readonly resolve: (value: R) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Collects concurrent requests into groups and hands each group to `commit`, which answers every
 * member separately. Two requests sharing a key (the SQL store: an event id) never share a group;
 * the later one waits for the next.
 */
export class GroupCommit<T, R> {
  private queue: Pending<T, R>[] = [];
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private idle: (() => void)[] = [];

  constructor(
    private readonly commit: (group: readonly T[]) => Promise<Settlement<R>[]>,
    private readonly options: GroupCommitOptions,
  ) {}

  submit(request: T, keys: readonly string[]): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ request, keys, resolve, reject });
      this.schedule(true);
    });
  }

  /** Resolves once nothing is queued or running. */
  async drain(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  /** `arrival`: called for an append just queued (not for a group that returned). */
  private schedule(arrival = false): void {
    if (this.queue.length === 0) {
      if (this.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve();
      return;
    }
    if (this.queue.length >= this.options.maxAppends) return this.start();
    if (this.inFlight < this.options.maxInFlight) {
      // Lingering: a group that could start now waits for company (the appends that queue meanwhile
      // join it). Only for arrivals: appends that queued behind running groups have waited already.
      const linger = this.options.lingerMs ?? 0;
      if (arrival && linger > 0 && this.immediate === undefined) {
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          this.start();
        }, linger);
        return;
      }
      this.immediate ??= setImmediate(() => {
        this.immediate = undefined;
        this.start();
      });
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.start();
    }, this.options.waitMs);
  }

  private start(): void {
    if (this.queue.length === 0) return;
    const group = this.take();
    if (this.timer && this.queue.length === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.inFlight++;
    void this.run(group).finally(() => {
      this.inFlight--;
      this.schedule();
    });
    if (this.queue.length > 0) this.schedule();
  }

  /** The next group: queue order, at most maxAppends, no key twice. */
  private take(): Pending<T, R>[] {
    const group: Pending<T, R>[] = [];
    const rest: Pending<T, R>[] = [];
    const keys = new Set<string>();
    for (const pending of this.queue) {
      if (group.length >= this.options.maxAppends || pending.keys.some((key) => keys.has(key))) {
        rest.push(pending);
        continue;
      }
      for (const key of pending.keys) keys.add(key);
      group.push(pending);
    }
    this.queue = rest;
    return group;
  }

  private async run(group: Pending<T, R>[]): Promise<void> {
    let settlements: Settlement<R>[];
    try {
      settlements = await this.commit(group.map((pending) => pending.request));
    } catch (error) {
      settlements = group.map(() => ({ ok: false, error }));
    }
    group.forEach((pending, index) => {
      const settlement = settlements[index] ?? { ok: false, error: new Error('group commit answered no outcome') };
      if ('later' in settlement) settlement.later.then(pending.resolve, pending.reject);
      else if (settlement.ok) pending.resolve(settlement.value);
      else pending.reject(settlement.error);
    });
  }
}

/**
 * EVENT_STORE_GROUP_COMMIT_WAIT_MS (≥ 0), EVENT_STORE_GROUP_COMMIT_MAX (≥ 1; 1 = every append alone) and
 * EVENT_STORE_GROUP_COMMIT_LINGER_MS (≥ 0) from the environment; unset ones keep their defaults. Throws
 * on a value that is not an integer in range, so a typo fails the start instead of silently changing
 * the write path.
 */
export function groupCommitFromEnv(env: NodeJS.ProcessEnv = process.env): GroupCommitOptions {
  return {
    ...DEFAULT_GROUP_COMMIT,
    waitMs: integerSetting(env, 'EVENT_STORE_GROUP_COMMIT_WAIT_MS', DEFAULT_GROUP_COMMIT.waitMs, 0),
    maxAppends: integerSetting(env, 'EVENT_STORE_GROUP_COMMIT_MAX', DEFAULT_GROUP_COMMIT.maxAppends, 1),
    lingerMs: integerSetting(env, 'EVENT_STORE_GROUP_COMMIT_LINGER_MS', DEFAULT_GROUP_COMMIT.lingerMs ?? 0, 0),
  };
}

function integerSetting(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`${name} must be an integer ≥ ${min}, got '${raw}'`);
  return value;
}
