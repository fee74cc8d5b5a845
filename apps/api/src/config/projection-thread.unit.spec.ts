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
