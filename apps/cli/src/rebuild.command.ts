import { parseArgs } from 'node:util';
import { SingleBar, Presets } from 'cli-progress';
import { rebuildReadModels } from '@dealstream/read-models';
import { openStore } from './open-store.js';
import { describeLag, projectionsStatus } from './projections.command.js';

/**
 * `rebuild [--dry-run]`: replays the whole event store into fresh read-model tables with a
 * progress bar, checks parity with the live tables and swaps them in while the API keeps serving.
 */
export async function rebuildCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { 'dry-run': { type: 'boolean', default: false }, 'batch-size': { type: 'string', default: '2000' } },
  });
  const { database, store } = await openStore();
  const liveLag = async () => describeLag(await projectionsStatus(database.db, database.config, store, 100_000));
  try {
    // How far the live tables are behind the store is a separate question from parity: a rebuild
    // compares at one position, so it cannot tell that the live tables are stale.
    console.log(`live read models before the rebuild: ${await liveLag()}`);
    // The SQL store can say how many events there are (for the ETA); EventStoreDB cannot cheaply.
    const total = await database.db
      .selectFrom('event_store.events')
      .select((eb) => eb.cast<string>(eb.fn.countAll(), 'text').as('n'))
      .executeTakeFirstOrThrow()
      .then((row) => Number(row.n))
      .catch(() => 0);
    const bar = new SingleBar(
      { format: 'rebuild |{bar}| {value}/{total} events | {rate} events/s | ETA {eta_formatted}', hideCursor: true },
      Presets.shades_classic,
    );
    const started = Date.now();
    bar.start(total, 0, { rate: 0 });
    const result = await rebuildReadModels({
      db: database.db,
      store,
      batchSize: Number(values['batch-size']),
      swap: !values['dry-run'],
      onProgress: (applied) => {
        if (applied > bar.getTotal()) bar.setTotal(applied);
        bar.update(applied, { rate: Math.round(applied / Math.max(0.001, (Date.now() - started) / 1000)) });
      },
    });
    bar.stop();
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `replayed ${result.applied} events in ${seconds.toFixed(1)} s (${Math.round(result.applied / Math.max(seconds, 0.001))} events/s)`,
    );
    for (const table of result.parity.tables) {
      console.log(
        `  ${table.table.padEnd(18)} ${String(table.rows).padStart(9)} rows  ${table.onlyInA || table.onlyInB ? `DIFFERS (live only ${table.onlyInA}, rebuilt only ${table.onlyInB})` : 'equal'}`,
      );
    }
    if (result.liveCaughtUp > 0) {
      console.log(
        `note: the live tables were ${result.liveCaughtUp} events behind the rebuild and no live runner caught them up in time; ` +
          `they were caught up inside the comparison's transaction${result.swapped ? '' : ', which this dry run rolled back'}`,
      );
    }
    if (!result.parity.equal) {
      console.log('parity FAILED: the live tables were kept');
      process.exitCode = 1;
    } else {
      console.log(
        result.swapped
          ? 'parity ok: the rebuilt tables are live'
          : 'parity ok: a rebuild equals the live tables at the same position (dry run: live tables kept)',
      );
    }
    if (!result.swapped) console.log(`live read models now: ${await liveLag()}`);
    if (result.leftover)
      console.log(`note: the replaced schema ${result.leftover} was still in use and was left behind; drop it later`);
  } finally {
    await database.close();
  }
}
