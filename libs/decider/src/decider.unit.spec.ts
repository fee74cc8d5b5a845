import { fold } from './decider.js';

describe('fold', () => {
  it('applies events in order over the initial state', () => {
    const counter = {
      initialState: () => [] as string[],
      evolve: (state: string[], event: { type: string; data: { v: string } }) => [...state, event.data.v],
    };
    expect(
      fold(counter, [
        { type: 'A', data: { v: 'x' } },
        { type: 'A', data: { v: 'y' } },
      ]),
    ).toEqual(['x', 'y']);
  });
});
