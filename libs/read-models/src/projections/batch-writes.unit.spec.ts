import { BatchWrites, enteredMsText } from './batch-writes.js';

describe('BatchWrites.addOpenVersion', () => {
  const version = (enteredAt: Date) => ({
    pipeline_id: 'p',
    stage_id: 's',
    currency: 'EUR',
    amount: 250,
    expected_close_date: '2026-03-31',
    stage_entered_at: enteredAt,
  });

  it('sums stage-entry instants exactly beyond 2^53 ms, per bucket and axis, signs included', () => {
    const writes = new BatchWrites();
    const at = new Date('2026-02-10T12:00:00.000Z');
    const recordedAt = new Date('2026-03-01T00:00:00.000Z');
    let expected = 0n;
    // 12,000 instants of ~1.77e12 ms: a sum of ~2.1e16, past 2^53 (9.0e15), with odd milliseconds.
    for (let i = 0; i < 12_000; i++) {
      const entered = new Date(Date.UTC(2026, 0, 1) + i * 7_919_333 + (i % 997));
      const sign = i % 5 === 4 ? -1 : 1;
      writes.addOpenVersion(version(entered), sign, at, recordedAt);
      expected += BigInt(sign) * BigInt(entered.getTime());
    }
    const rows = [...writes.openDeltas()];
    expect(rows.map((r) => [r.axis, r.span, r.bucket]).sort()).toEqual([
      ['occurred', 'day', '2026-02-10T00:00:00.000Z'],
      ['occurred', 'month', '2026-02-01T00:00:00.000Z'],
      ['occurred', 'year', '2026-01-01T00:00:00.000Z'],
      ['recorded', 'day', '2026-03-01T00:00:00.000Z'],
      ['recorded', 'month', '2026-03-01T00:00:00.000Z'],
      ['recorded', 'year', '2026-01-01T00:00:00.000Z'],
    ]);
    expect(expected > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    for (const row of rows) {
      expect(enteredMsText(row)).toBe(String(expected));
      expect(row.open_count).toBe(12_000 - 2 * 2_400);
      expect(row.open_amount).toBe(250 * (12_000 - 2 * 2_400));
      expect(row.close_month).toBe('2026-03');
    }
  });

  it('keeps groups apart: another stage, currency or close month is another row', () => {
    const writes = new BatchWrites();
    const at = new Date('2026-02-10T12:00:00.000Z');
    const base = version(new Date('2026-01-05T00:00:00.000Z'));
    writes.addOpenVersion(base, 1, at, at);
    writes.addOpenVersion({ ...base, stage_id: 't' }, 1, at, at);
    writes.addOpenVersion({ ...base, currency: 'USD' }, 1, at, at);
    writes.addOpenVersion({ ...base, expected_close_date: null }, 1, at, at);
    writes.addOpenVersion(base, -1, at, at);
    const rows = [...writes.openDeltas()].filter((r) => r.axis === 'occurred' && r.span === 'day');
    expect(rows.map((r) => [r.stage_id, r.currency, r.close_month, r.open_count])).toEqual([
      ['s', 'EUR', '2026-03', 0],
      ['t', 'EUR', '2026-03', 1],
      ['s', 'USD', '2026-03', 1],
      ['s', 'EUR', '', 1],
    ]);
  });
});
