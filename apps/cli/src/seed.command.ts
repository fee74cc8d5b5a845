import { parseArgs } from 'node:util';
import { SingleBar, Presets } from 'cli-progress';
import { writeSyntheticHistory } from '@dealstream/seeding';
import { openStore } from './open-store.js';

/** `seed --deals 1000 --months 12 --seed 42`: writes a deterministic synthetic history. */
export async function seedCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      deals: { type: 'string', default: '1000' },
      months: { type: 'string', default: '12' },
      seed: { type: 'string', default: '42' },
    },
  });
  const deals = positive(values.deals, 'deals');
  const { database, store } = await openStore();
  const bar = new SingleBar(
    {
      format: 'seeding |{bar}| {value}/{total} deals | {events} events | {speed} deals/s | ETA {eta_formatted}',
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  const started = Date.now();
  bar.start(deals, 0, { events: 0, speed: 0 });
  try {
    const result = await writeSyntheticHistory(store, {
      seed: positive(values.seed, 'seed'),
      deals,
      months: positive(values.months, 'months'),
      onProgress: (written, events) =>
        bar.update(written, { events, speed: Math.round(written / Math.max(0.001, (Date.now() - started) / 1000)) }),
    });
    bar.stop();
    console.log(
      `pipeline ${result.pipelineId}: ${result.deals} deals, ${result.events} events (the projection runner picks them up)`,
    );
  } finally {
    bar.stop();
    await database.close();
  }
}

function positive(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
}
