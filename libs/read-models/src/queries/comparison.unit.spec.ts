import { comparisonPeriod, funnelDeltas, velocityDeltas } from './comparison.js';
import type { Funnel } from './funnel.query.js';
import type { Velocity } from './velocity.query.js';

const at = (iso: string) => new Date(`${iso}T00:00:00Z`);
const days = (p: { from: Date; to: Date }) => [p.from.toISOString().slice(0, 10), p.to.toISOString().slice(0, 10)];

describe('comparisons', () => {
  it('previous-period is the equally long period just before; previous-year the same dates a year earlier', () => {
    expect(days(comparisonPeriod({ from: at('2025-04-01'), to: at('2025-07-01') }, 'previous-period'))).toEqual([
      '2024-12-31', // 91 days before 1 April (31 March + 28 February + 31 January + 1)
      '2025-04-01',
    ]);
    expect(days(comparisonPeriod({ from: at('2025-04-01'), to: at('2025-07-01') }, 'previous-year'))).toEqual([
      '2024-04-01',
      '2024-07-01',
    ]);
    // 29 February has no day a year earlier: it becomes 1 March.
    expect(days(comparisonPeriod({ from: at('2024-02-29'), to: at('2024-03-31') }, 'previous-year'))).toEqual([
      '2023-03-01',
      '2023-03-31',
    ]);
  });

  const funnelOf = (size: number, won: number, reached: number[], conversion: (number | null)[]): Funnel => ({
    policy: 'any',
    cohort: { size, open: size - won, won, lost: 0, disqualified: 0 },
    winRate: size === 0 ? null : Math.round((won / size) * 10_000) / 10_000,
    stages: reached.map((r, i) => ({
      stageId: `s${i}`,
      name: `S${i}`,
      reached: r,
      conversionToNext: conversion[i],
      dropOff: null,
      medianDaysToReach: null,
      daysInStageP50: null,
      daysInStageP90: null,
    })),
    transitions: [],
  });

  it('funnel deltas: this − that, null where either side is null, 4 decimals on ratios', () => {
    // 10 deals, 3 won (0.3) against 8 deals, 1 won (0.125): winRate +0.175.
    expect(
      funnelDeltas(funnelOf(10, 3, [10, 6, 3], [0.6, 0.5, null]), funnelOf(8, 1, [8, 2, 0], [0.25, 0, null])),
    ).toEqual({
      cohortSize: 2,
      won: 2,
      winRate: 0.175,
      stages: [
        { stageId: 's0', reached: 2, conversionToNext: 0.35 },
        { stageId: 's1', reached: 4, conversionToNext: 0.5 },
        { stageId: 's2', reached: 3, conversionToNext: null },
      ],
    });
    expect(funnelDeltas(funnelOf(1, 0, [1], [null]), funnelOf(0, 0, [0], [null])).winRate).toBeNull();
  });

  it('velocity deltas cover the currencies of both periods', () => {
    const v = (opportunities: number, byCurrency: Velocity['byCurrency'], cycle: number | null): Velocity => ({
      opportunities,
      won: byCurrency.reduce((n, c) => n + c.won, 0),
      lost: 1,
      winRatePeriod: 0.5,
      winRateCohort: 0.1,
      averageCycleDays: cycle,
      disqualified: 0,
      lostReasons: [],
      disqualificationReasons: [],
      byCurrency,
    });
    const current = v(
      5,
      [
        {
          currency: 'EUR',
          opportunities: 5,
          won: 1,
          wonAmount: 1200,
          lost: 1,
          lostAmount: 700,
          averageWonAmount: 1200,
          velocityPerDay: 300,
        },
      ],
      12.5,
    );
    const previous = v(
      4,
      [
        {
          currency: 'EUR',
          opportunities: 3,
          won: 1,
          wonAmount: 1000,
          lost: 0,
          lostAmount: 0,
          averageWonAmount: 1000,
          velocityPerDay: 150,
        },
        {
          currency: 'USD',
          opportunities: 1,
          won: 0,
          wonAmount: 0,
          lost: 1,
          lostAmount: 90,
          averageWonAmount: null,
          velocityPerDay: null,
        },
      ],
      10.25,
    );
    expect(velocityDeltas(current, previous)).toEqual({
      opportunities: 1,
      won: 0,
      lost: 0,
      winRatePeriod: 0,
      winRateCohort: 0,
      averageCycleDays: 2.25,
      byCurrency: [
        {
          currency: 'EUR',
          opportunities: 2,
          won: 0,
          wonAmount: 200,
          lost: 1,
          lostAmount: 700,
          averageWonAmount: 200,
          velocityPerDay: 150,
        },
        {
          currency: 'USD',
          opportunities: -1,
          won: 0,
          wonAmount: 0,
          lost: -1,
          lostAmount: -90,
          averageWonAmount: null,
          velocityPerDay: null,
        },
      ],
    });
  });
});
