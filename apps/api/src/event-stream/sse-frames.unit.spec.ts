import { eventFrame, heartbeatFrame, openingFrame } from './sse-frames.js';

describe('SSE frames', () => {
  it('writes an event as id and one data line, ended by a blank line, even when the data holds line breaks', () => {
    const frame = eventFrame('0000000000000001-0000000000000002', { type: 'DealCreated', title: 'a\nb\r\nc' });
    expect(frame).toBe(
      'id: 0000000000000001-0000000000000002\ndata: {"type":"DealCreated","title":"a\\nb\\r\\nc"}\n\n',
    );
    expect(frame.split('\n')).toHaveLength(4);
  });

  it('writes heartbeats as comments and opens with a retry hint', () => {
    expect(heartbeatFrame()).toBe(': heartbeat\n\n');
    expect(openingFrame(2000)).toBe('retry: 2000\n: stream open\n\n');
  });
});
