import { appConfigFromEnv } from './app-config.js';

describe('PROJECTION_THREAD', () => {
  it('puts the runner on a worker thread unless told main; anything else is refused at start', () => {
    expect(appConfigFromEnv({}).projectionThread).toBe('worker');
    expect(appConfigFromEnv({ PROJECTION_THREAD: 'worker' }).projectionThread).toBe('worker');
    expect(appConfigFromEnv({ PROJECTION_THREAD: 'main' }).projectionThread).toBe('main');
    expect(() => appConfigFromEnv({ PROJECTION_THREAD: 'thread' })).toThrow(
      'PROJECTION_THREAD must be worker or main, not "thread"',
    );
  });
});

describe('PROJECTION_BATCH_INTERVAL_MS', () => {
  it('spaces the reads of the worker thread 50 ms apart unless told otherwise (0 = not at all); anything but a whole number is refused', () => {
    expect(appConfigFromEnv({}).projectionBatchIntervalMs).toBe(50);
    expect(appConfigFromEnv({ PROJECTION_BATCH_INTERVAL_MS: '0' }).projectionBatchIntervalMs).toBe(0);
    expect(appConfigFromEnv({ PROJECTION_BATCH_INTERVAL_MS: '20' }).projectionBatchIntervalMs).toBe(20);
    expect(() => appConfigFromEnv({ PROJECTION_BATCH_INTERVAL_MS: '-1' })).toThrow(
      'PROJECTION_BATCH_INTERVAL_MS must be a whole number of milliseconds, got "-1"',
    );
  });
});

describe('HEAP_GROWING_PERCENT', () => {
  it('bounds the old generation at 50% over its live size unless told otherwise (0 = V8 decides); anything but a whole number is refused', () => {
    expect(appConfigFromEnv({}).heapGrowingPercent).toBe(50);
    expect(appConfigFromEnv({ HEAP_GROWING_PERCENT: '0' }).heapGrowingPercent).toBe(0);
    expect(appConfigFromEnv({ HEAP_GROWING_PERCENT: '30' }).heapGrowingPercent).toBe(30);
    expect(() => appConfigFromEnv({ HEAP_GROWING_PERCENT: '1.5' })).toThrow(
      'HEAP_GROWING_PERCENT must be a whole number of percent, got "1.5"',
    );
  });
});
