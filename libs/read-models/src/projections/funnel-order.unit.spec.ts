import { inOrderStages, positionsJson, stagePositions } from './funnel-order.js';

const at = (day: number) => new Date(Date.UTC(2025, 0, 1 + day));
const stage = (stageId: string) => ({ stageId, name: stageId, probability: 10 });

describe('in-order first entries (the funnel strict, judged at write time)', () => {
  const positions = new Map([
    ['a', 0],
    ['b', 1],
    ['c', 2],
    ['r', 1], // a removed stage whose deals went to b
  ]);

  it('keeps the prefix of first entries that runs 0, 1, 2, … in time order', () => {
    const judged = (entries: [string, number][]) =>
      [
        ...inOrderStages(
          entries.map(([stageId, day]) => ({ stageId, at: at(day) })),
          positions,
        ),
      ].sort();
    expect(
      judged([
        ['a', 0],
        ['b', 1],
        ['c', 2],
      ]),
    ).toEqual(['a', 'b', 'c']);
    expect(
      judged([
        ['a', 0],
        ['c', 1],
        ['b', 2],
      ]),
    ).toEqual(['a']); // B skipped, entered later: no repair
    expect(
      judged([
        ['b', 0],
        ['c', 1],
      ]),
    ).toEqual([]); // did not start in the first stage
    expect(
      judged([
        ['a', 0],
        ['c', 1],
        ['b', 1],
      ]),
    ).toEqual(['a', 'b', 'c']); // a tie goes by board position
    expect(
      judged([
        ['a', 0],
        ['r', 1],
        ['b', 3],
        ['c', 2],
      ]),
    ).toEqual(['a', 'b', 'c', 'r']); // r counts as b, first at d1
    expect(
      judged([
        ['a', 0],
        ['x', 1],
        ['b', 2],
      ]),
    ).toEqual(['a', 'b']); // a stage of no column is left out
  });

  it('places removed stages at the live stage that received their deals, following the chain', () => {
    const definition = {
      stages: [stage('a'), stage('c'), stage('b')],
      removedStages: { r: { name: 'R', movedTo: 'q' }, q: { name: 'Q', movedTo: 'b' } },
    };
    expect(positionsJson(stagePositions(definition))).toBe('{"a":0,"b":2,"c":1,"q":2,"r":2}');
  });
});
