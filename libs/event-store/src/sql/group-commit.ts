/**
 * How appends are grouped into one statement (docs/event-store.md, "Group commit").
 * - `maxAppends`: a group holds at most this many appends; a full queue starts a group at once.
 * - `maxInFlight`: while fewer groups than this are running, a new group starts at the end of the
 *   current event-loop turn (so appends made in the same turn share it, and a lone append waits
 *   for nobody).
 * - `waitMs`: while `maxInFlight` groups are running, appends queue for the next group, which
 *   starts when one of those returns or `waitMs` after the first of them queued, whichever is first.
 * - `lingerMs` (default 0): an append that arrives to an empty queue while fewer than `maxInFlight`
 *   groups run waits up to this long for company before its group starts (it starts at once when the
 *   group fills) — fewer, larger statements when appends arrive one at a time, for up to this much
 *   latency each. Only while appends are arriving that often: unless the two appends before it came
 *   within `lingerMs` of it, an append leaves at the end of its turn as with 0 — so a quiet system
 *   never waits, nor a lone writer (each append sent once the one before is answered) whose appends
 *   take more than half of `lingerMs` each.
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
  /** `timer` is a linger's: the group it holds starts when it fires (or fills), whatever returns meanwhile. */
  private lingering = false;
  /** When the last two appends were submitted (performance.now()): lingering pays only while they come often. */
  private lastArrival = Number.NEGATIVE_INFINITY;
  private arrivalBefore = Number.NEGATIVE_INFINITY;
  private idle: (() => void)[] = [];

  /** `options.lingerMs`, 0 when unset. */
  private readonly lingerMs: number;

  constructor(
    private readonly commit: (group: readonly T[]) => Promise<Settlement<R>[]>,
    private readonly options: GroupCommitOptions,
  ) {
    this.lingerMs = options.lingerMs ?? 0;
  }

  submit(request: T, keys: readonly string[]): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ request, keys, resolve, reject });
      this.schedule(this.lingerMs > 0 && this.arrivesOften());
    });
  }

  /** Resolves once nothing is queued or running. */
  async drain(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  /**
   * Whether the append just queued and the two before it came within lingerMs: a lone writer's appends
   * (each sent when the one before is answered) do not, unless each takes under half of it. Only
   * asked when lingering is on (the clock read per append is then all it costs).
   */
  private arrivesOften(): boolean {
    const now = performance.now();
    const often = now - this.arrivalBefore < this.lingerMs;
    this.arrivalBefore = this.lastArrival;
    this.lastArrival = now;
    return often;
  }

  /** `mayLinger`: called for an append just queued, which came within `lingerMs` of the two before it. */
  private schedule(mayLinger = false): void {
    if (this.queue.length === 0) {
      if (this.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve();
      return;
    }
    if (this.queue.length >= this.options.maxAppends) return this.start();
    if (this.inFlight < this.options.maxInFlight) {
      // Lingering: a group that could start now waits for company (the appends that queue meanwhile
      // join it, and a running group's return does not cut it short). Only for arrivals that come
      // often: appends that queued behind running groups have waited already and leave when one
      // returns, and a lone writer's appends would wait for nobody.
      if (this.lingering) return;
      if (mayLinger && this.immediate === undefined && this.timer === undefined) {
        this.lingering = true;
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.lingering = false;
          this.start();
        }, this.lingerMs);
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
      this.lingering = false;
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
