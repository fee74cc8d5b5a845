import { StreamSlots } from './stream-slots.js';

describe('StreamSlots', () => {
  it('grants up to the bound per token, independently per token, and frees a slot once per release', () => {
    const slots = new StreamSlots(2);
    const a = StreamSlots.keyOf('token-a');
    const b = StreamSlots.keyOf('token-b');
    const first = slots.tryAcquire(a);
    const second = slots.tryAcquire(a);
    expect([first, second].every((r) => typeof r === 'function')).toBe(true);
    expect(slots.tryAcquire(a)).toBeUndefined();
    expect(slots.tryAcquire(b)).toBeDefined();
    expect(slots.total()).toBe(3);
    first!();
    first!(); // a second release of the same slot frees nothing more
    expect(slots.total()).toBe(2);
    expect(slots.tryAcquire(a)).toBeDefined();
    expect(slots.tryAcquire(a)).toBeUndefined();
  });

  it('keys by a digest, never the token itself', () => {
    expect(StreamSlots.keyOf('secret-token')).toMatch(/^[0-9a-f]{64}$/);
    expect(StreamSlots.keyOf('secret-token')).not.toContain('secret');
  });
});
