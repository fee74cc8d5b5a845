import { v5 as uuidv5 } from 'uuid';
import { importIds } from './import-ids.js';

const NAMESPACE = '8f3c2b7e-51a4-4d0e-9b6a-3c1d2e4f5a60';

describe('importIds', () => {
  it('derive the same UUID v5 as the uuid package, so ids of earlier imports never change', () => {
    const cases: [string, string][] = [
      [importIds.deal('acme-crm', 'D1'), ['acme-crm', 'deal', 'D1'].join('\u0000')],
      [importIds.event('acme-crm', 'R-7', 2), ['acme-crm', 'event', 'R-7', '2'].join('\u0000')],
      [importIds.stage('sf', 'P', 'Négociation 💼'), ['sf', 'stage', 'P', 'Négociation 💼'].join('\u0000')],
      [
        importIds.command('hubspot', '1002:dealstage:1735948800000:stage'),
        ['hubspot', 'command', '1002:dealstage:1735948800000:stage'].join('\u0000'),
      ],
    ];
    // Enough names that the variant's digit takes each of its four values, and a name too long for
    // the reused buffer (its own path).
    for (let n = 0; n < 64; n++) cases.push([importIds.deal('acme-crm', `D${n}`), `acme-crm\u0000deal\u0000D${n}`]);
    const long = 'x'.repeat(3000);
    cases.push([importIds.deal('acme-crm', long), `acme-crm\u0000deal\u0000${long}`]);
    expect(new Set(cases.map(([derived]) => derived[19]))).toEqual(new Set(['8', '9', 'a', 'b']));
    for (const [derived, name] of cases) expect(derived).toBe(uuidv5(name, NAMESPACE));
    expect(importIds.pipeline('acme-crm', 'P1')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});
