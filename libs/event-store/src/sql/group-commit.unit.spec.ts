import { GroupCommit, groupCommitFromEnv, type Settlement } from './group-commit.js';

/** A commit that records its groups and answers each member `n * 10`, or fails odd-marked ones. */
function recorder(delayMs = 0) {
  const groups: number[][] = [];
  const commit = async (group: readonly number[]): Promise<Settlement<number>[]> => {
    groups.push([...group]);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    return group.map((n) => (n < 0 ? { ok: false, error: new Error(`refused ${n}`) } : { ok: true, value: n * 10 }));
  };
  return { groups, commit };
}

describe('GroupCommit', () => {
  it('puts the requests of one event-loop turn in one group and answers each on its own', async () => {
    const { groups, commit } = recorder();
    const gc = new GroupCommit(commit, { waitMs: 50, maxAppends: 10, maxInFlight: 1 });
    const results = await Promise.allSettled([1, -2, 3].map((n) => gc.submit(n, [`k${n}`])));
    expect(groups).toEqual([[1, -2, 3]]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      10,
      'refused -2',
      30,
    ]);
  });

  it('caps a group at maxAppends and starts the next with the rest', async () => {
    const { groups, commit } = recorder();
    const gc = new GroupCommit(commit, { waitMs: 0, maxAppends: 2, maxInFlight: 1 });
    await Promise.all([1, 2, 3, 4, 5].map((n) => gc.submit(n, [])));
    expect(groups).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('never puts two requests with a shared key in one group', async () => {
    const { groups, commit } = recorder();
    const gc = new GroupCommit(commit, { waitMs: 0, maxAppends: 10, maxInFlight: 1 });
    await Promise.all([gc.submit(1, ['a']), gc.submit(2, ['b']), gc.submit(3, ['a', 'c'])]);
    expect(groups).toEqual([[1, 2], [3]]);
  });

  it('while maxInFlight groups run, queues the next group until one returns (not longer than waitMs)', async () => {
    const { groups, commit } = recorder(30);
    const gc = new GroupCommit(commit, { waitMs: 1_000, maxAppends: 10, maxInFlight: 1 });
    const first = gc.submit(1, []);
    await new Promise((resolve) => setImmediate(resolve)); // group [1] is running now
    const later = [2, 3, 4].map((n) => gc.submit(n, []));
    await Promise.all([first, ...later]);
    expect(groups).toEqual([[1], [2, 3, 4]]);

    const bounded = recorder(200);
    const short = new GroupCommit(bounded.commit, { waitMs: 10, maxAppends: 10, maxInFlight: 1 });
    const slow = short.submit(1, []);
    await new Promise((resolve) => setImmediate(resolve));
    const t0 = performance.now();
    const next = short.submit(2, []);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(bounded.groups).toEqual([[1], [2]]); // started after waitMs, not after the 200 ms group
    await Promise.all([slow, next]);
    expect(performance.now() - t0).toBeLessThan(400);
  });

  it('with lingerMs, an append coming soon after another waits that long for company, and what arrives meanwhile joins its group', async () => {
    const { groups, commit } = recorder();
    const gc = new GroupCommit(commit, { waitMs: 0, maxAppends: 10, maxInFlight: 2, lingerMs: 1_000 });
    await gc.submit(8, []); // nothing came before these two: each leaves at once
    await gc.submit(9, []);
    const t0 = performance.now();
    const first = gc.submit(1, []); // within lingerMs of the two before it: lingers
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(groups).toEqual([[8], [9]]); // 1 still lingering
    const second = gc.submit(2, []);
    await expect(Promise.all([first, second])).resolves.toEqual([10, 20]);
    expect(groups).toEqual([[8], [9], [1, 2]]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(990);
  });

  it('with lingerMs, a lone writer does not linger: each append leaves at the end of its turn', async () => {
    // One writer, each append sent when the one before is answered (60 ms a commit), closer together than
    // lingerMs (100 ms) but not three within it: a linger would hold each for company that cannot come.
    const { groups, commit } = recorder(60);
    const gc = new GroupCommit(commit, { waitMs: 0, maxAppends: 10, maxInFlight: 2, lingerMs: 100 });
    for (let n = 1; n <= 4; n++) {
      const answer = gc.submit(n, []);
      await new Promise((resolve) => setImmediate(resolve)); // after the group's own setImmediate
      expect(groups.at(-1)).toEqual([n]);
      await expect(answer).resolves.toBe(n * 10);
    }
  });

  it("with lingerMs, a running group that returns does not cut another group's linger short", async () => {
    const { groups, commit } = recorder(200);
    const gc = new GroupCommit(commit, { waitMs: 0, maxAppends: 2, maxInFlight: 2, lingerMs: 1_000 });
    const full = [gc.submit(1, []), gc.submit(2, [])]; // full: leaves at once, runs 200 ms (3 lingers: it comes right after these)
    await new Promise((resolve) => setImmediate(resolve));
    const third = gc.submit(3, []); // lingers; [1, 2] returns meanwhile
    await Promise.all(full);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const fourth = gc.submit(4, []);
    await expect(Promise.all([third, fourth])).resolves.toEqual([30, 40]);
    expect(groups).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('with lingerMs, a full group leaves at once, and appends queued behind a running group leave when it returns', async () => {
    const full = recorder();
    const filled = new GroupCommit(full.commit, { waitMs: 0, maxAppends: 2, maxInFlight: 2, lingerMs: 60_000 });
    await expect(Promise.all([filled.submit(1, []), filled.submit(2, [])])).resolves.toEqual([10, 20]);
    expect(full.groups).toEqual([[1, 2]]);

    // Group [1] (lingered, then runs 100 ms); 2 arrives while it runs, often enough to linger, but
    // with maxInFlight reached: it queues, and its group starts when [1] returns — not a linger
    // (1.5 s) later, nor after waitMs (60 s).
    const groups: number[][] = [];
    let queued: Promise<number> | undefined;
    let firstDone = 0;
    const gc: GroupCommit<number, number> = new GroupCommit(
      async (group) => {
        groups.push([...group]);
        if (group[0] === 1) {
          queued = gc.submit(2, []);
          await new Promise((resolve) => setTimeout(resolve, 100));
          firstDone = performance.now();
        }
        return group.map((n) => ({ ok: true, value: n }));
      },
      { waitMs: 60_000, maxAppends: 10, maxInFlight: 1, lingerMs: 1_500 },
    );
    for (const primer of [8, 9]) await gc.submit(primer, []);
    await gc.submit(1, []); // after its own linger
    await expect(queued).resolves.toBe(2);
    expect(groups).toEqual([[8], [9], [1], [2]]);
    expect(performance.now() - firstDone).toBeLessThan(1_000);
  }, 20_000);

  it('answers the other members at once when one is answered later', async () => {
    let finishLater!: (value: number) => void;
    const later = new Promise<number>((resolve) => (finishLater = resolve));
    const gc = new GroupCommit<number, number>(
      async (group) => group.map((n) => (n === 2 ? { later } : { ok: true, value: n })),
      { waitMs: 0, maxAppends: 10, maxInFlight: 1 },
    );
    const answered: number[] = [];
    const all = [1, 2, 3].map((n) => gc.submit(n, []).then((value) => answered.push(value)));
    await Promise.all([all[0], all[2]]);
    expect(answered).toEqual([1, 3]);
    finishLater(20);
    await all[1];
    expect(answered).toEqual([1, 3, 20]);
  });

  it('rejects every member with the error when the commit itself throws, and drains', async () => {
    const gc = new GroupCommit<number, number>(() => Promise.reject(new Error('down')), {
      waitMs: 0,
      maxAppends: 10,
      maxInFlight: 1,
    });
    const results = await Promise.allSettled([gc.submit(1, []), gc.submit(2, [])]);
    expect(results.map((r) => r.status === 'rejected' && (r.reason as Error).message)).toEqual(['down', 'down']);
    await expect(gc.drain()).resolves.toBeUndefined();
  });
});

describe('groupCommitFromEnv', () => {
  it('reads EVENT_STORE_GROUP_COMMIT_WAIT_MS, _MAX and _LINGER_MS over the defaults and refuses nonsense', () => {
    expect(groupCommitFromEnv({})).toEqual({ waitMs: 2, maxAppends: 64, maxInFlight: 2, lingerMs: 0 });
    expect(groupCommitFromEnv({ EVENT_STORE_GROUP_COMMIT_LINGER_MS: '2' })).toMatchObject({ lingerMs: 2 });
    expect(() => groupCommitFromEnv({ EVENT_STORE_GROUP_COMMIT_LINGER_MS: '-1' })).toThrow(/LINGER_MS/);
    expect(
      groupCommitFromEnv({ EVENT_STORE_GROUP_COMMIT_WAIT_MS: '0', EVENT_STORE_GROUP_COMMIT_MAX: '1' }),
    ).toMatchObject({ waitMs: 0, maxAppends: 1 });
    expect(() => groupCommitFromEnv({ EVENT_STORE_GROUP_COMMIT_MAX: '0' })).toThrow(/EVENT_STORE_GROUP_COMMIT_MAX/);
    expect(() => groupCommitFromEnv({ EVENT_STORE_GROUP_COMMIT_WAIT_MS: '1.5' })).toThrow(/WAIT_MS/);
  });
});
