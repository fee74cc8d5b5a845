import currencyCodes from 'currency-codes';
import { isCurrencyCode } from '@dealstream/pipelines-domain';
import { ISO_4217_CODES, ISO_4217_EXCLUDED } from '../../libs/pipelines/domain/src/iso-4217.codes.js';

/**
 * The domain keeps ISO 4217 as a generated constant (domain libs import no packages). This fails when
 * the installed `currency-codes` package lists other codes: regenerate with
 * `node tools/generate-currency-codes.cjs > libs/pipelines/domain/src/iso-4217.codes.ts`.
 */
describe('ISO 4217 codes in the domain', () => {
  it('are exactly the currency-codes package list, less the reserved XTS and XXX', () => {
    const fromPackage = currencyCodes
      .codes()
      .filter((code) => !ISO_4217_EXCLUDED.includes(code))
      .sort();
    expect([...ISO_4217_CODES].sort()).toEqual(fromPackage);
    expect(fromPackage.length).toBeGreaterThan(150);
  });

  it.each(['EUR', 'USD', 'JPY', 'CHF', 'XAU'])('accepts %s', (code) => expect(isCurrencyCode(code)).toBe(true));
  it.each(['ZZZ', 'QQQ', 'XTS', 'XXX', 'eur', 'EURO', '', 'E\u0000R'])('refuses %j', (code) =>
    expect(isCurrencyCode(code)).toBe(false),
  );
});
