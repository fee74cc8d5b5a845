import { fold } from '@dealstream/decider';
import { DeciderSpec } from '@dealstream/decider/testing';
import type { DealCommand } from './deal.commands.js';
import { dealDecider } from './deal.decider.js';
import { bant, created } from './testing/deal.fixtures.js';

/*
 * Every text field of every deal command refuses what PostgreSQL text/jsonb cannot hold (NUL, lone
 * surrogates) and control characters; multi-line fields (reason, outcome, note) keep tab and line breaks.
 */
const spec = DeciderSpec.for(dealDecider);

const commands: [string, (text: string) => DealCommand, string][] = [
  ['LoseDeal.reason', (reason) => ({ type: 'LoseDeal', data: { reason } }), 'invalid-reason'],
  [
    'LoseDeal.competitor',
    (competitor) => ({ type: 'LoseDeal', data: { reason: 'price', competitor } }),
    'invalid-competitor',
  ],
  ['WinDeal.reason', (reason) => ({ type: 'WinDeal', data: { reason } }), 'invalid-reason'],
  ['DisqualifyDeal.note', (note) => ({ type: 'DisqualifyDeal', data: { reason: 'other', note } }), 'invalid-note'],
  [
    'LogActivity.outcome',
    (outcome) => ({ type: 'LogActivity', data: { activityId: 'a-1', kind: 'call', outcome } }),
    'invalid-activity-outcome',
  ],
  [
    'LogActivity.note',
    (note) => ({ type: 'LogActivity', data: { activityId: 'a-1', kind: 'call', note } }),
    'invalid-note',
  ],
  [
    'LogActivity.activityId',
    (activityId) => ({ type: 'LogActivity', data: { activityId, kind: 'call' } }),
    'invalid-activity-id',
  ],
  ['ReassignDealOwner.ownerId', (ownerId) => ({ type: 'ReassignDealOwner', data: { ownerId } }), 'invalid-owner-id'],
  [
    'QualifyDeal.bant.need.note',
    (note) => ({ type: 'QualifyDeal', data: { bant: { ...bant(), need: { confirmed: true, note } } } }),
    'invalid-bant',
  ],
];

describe('text rules of deal commands', () => {
  describe.each(commands)('%s', (_field, command, code) => {
    it.each([
      ['NUL', 'a\u0000b'],
      ['a lone high surrogate', 'a\ud800b'],
      ['a lone low surrogate at the end', 'ab\udfff'],
      ['an escape character', 'a\u001b[2Jb'],
      ['DEL', 'a\u007fb'],
      ['a C1 control', 'a\u009bb'],
    ])('refuses %s', (_label, text) => {
      spec.given([created]).when(command(text)).thenThrows(code, { kind: 'invalid' });
    });

    it('accepts emoji (paired surrogates) and accented letters', () => {
      const events = dealDecider.decide(command('Zürich 🚀 déjà'), fold(dealDecider, [created]));
      expect(events).toHaveLength(1);
    });
  });

  it.each(commands.filter(([field]) => /reason|outcome|note/.test(field) && field !== 'LoseDeal.competitor'))(
    '%s keeps tab and line breaks',
    (_field, command) => {
      const events = dealDecider.decide(command('line 1\r\n\tline 2'), fold(dealDecider, [created]));
      expect(JSON.stringify(events)).toContain('line 1\\r\\n\\tline 2');
    },
  );

  it.each([
    [
      'LoseDeal.competitor',
      (text: string): DealCommand => ({ type: 'LoseDeal', data: { reason: 'price', competitor: text } }),
      'invalid-competitor',
    ],
    [
      'ReassignDealOwner.ownerId',
      (text: string): DealCommand => ({ type: 'ReassignDealOwner', data: { ownerId: text } }),
      'invalid-owner-id',
    ],
  ] as const)('%s is single-line: a line feed is refused', (_field, command, code) => {
    spec.given([created]).when(command('a\nb')).thenThrows(code);
  });
});
