import { changedFields, deepEqual, valueAt } from './field-diff.js';

describe('changedFields', () => {
  it('names nested changes by dotted path and leaves equal fields out', () => {
    const before = {
      status: 'open',
      amount: 100,
      qualification: { bant: { need: { confirmed: false } }, score: 50 },
      title: 'T',
    };
    const after = {
      status: 'open',
      amount: 250,
      qualification: { bant: { need: { confirmed: true } }, score: 75 },
      title: 'T',
    };
    expect(changedFields(before, after)).toEqual([
      { field: 'amount', before: 100, after: 250 },
      { field: 'qualification.bant.need.confirmed', before: false, after: true },
      { field: 'qualification.score', before: 50, after: 75 },
    ]);
  });

  it('reports an object replacing null, and a field on one side only, as one change at that path', () => {
    expect(
      changedFields({ lastActivity: null, a: 1 }, { lastActivity: { activityId: 'x', kind: 'call' }, a: 1, b: 2 }),
    ).toEqual([
      { field: 'lastActivity', before: null, after: { activityId: 'x', kind: 'call' } },
      { field: 'b', before: null, after: 2 },
    ]);
  });

  it('compares arrays as whole values, and absent as null', () => {
    expect(changedFields({ order: ['a', 'b'], x: null }, { order: ['b', 'a'] })).toEqual([
      { field: 'order', before: ['a', 'b'], after: ['b', 'a'] },
    ]);
    expect(changedFields({ order: ['a', 'b'] }, { order: ['a', 'b'] })).toEqual([]);
  });
});

describe('valueAt and deepEqual', () => {
  it('reads a dotted path and gives undefined through a missing or scalar step', () => {
    const view = { stages: { s1: { probability: 10 } }, name: 'P' };
    expect(valueAt(view, 'stages.s1.probability')).toBe(10);
    expect(valueAt(view, 'stages.s2.probability')).toBeUndefined();
    expect(valueAt(view, 'name.length')).toBeUndefined();
  });

  it('treats key order as irrelevant and array order as relevant', () => {
    expect(deepEqual({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 })).toBe(true);
    expect(deepEqual([1, 2], [2, 1])).toBe(false);
    expect(deepEqual({ a: 1 }, { a: 1, b: 0 })).toBe(false);
  });
});
