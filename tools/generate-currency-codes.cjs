// Prints libs/pipelines/domain/src/iso-4217.codes.ts from the installed `currency-codes` package.
// Usage: node tools/generate-currency-codes.cjs > libs/pipelines/domain/src/iso-4217.codes.ts
const cc = require('currency-codes');
const { version } = require('currency-codes/package.json');

const excluded = { XTS: 'testing', XXX: 'no currency' };
const codes = cc
  .codes()
  .filter((code) => !(code in excluded))
  .sort();
const quoted = (list) => list.map((code) => `'${code}'`).join(', ');
const rows = [];
for (let i = 0; i < codes.length; i += 16) rows.push(`  ${quoted(codes.slice(i, i + 16))},`);

process.stdout.write(`/*
 * ISO 4217 alphabetic codes, generated from the maintained \`currency-codes\` package (version ${version},
 * ISO list published ${cc.publishDate}). Domain libs import no packages, so the list lives here as a
 * constant; test/architecture/iso-4217-codes.unit.spec.ts fails when it differs from the installed package. Regenerate
 * after updating the package:
 *
 *   node tools/generate-currency-codes.cjs > libs/pipelines/domain/src/iso-4217.codes.ts
 *
 * Left out on purpose: ${Object.entries(excluded)
   .map(([code, why]) => `${code} (${why})`)
   .join(', ')} — reserved by ISO, no deal is priced in them.
 */
export const ISO_4217_EXCLUDED: readonly string[] = [${quoted(Object.keys(excluded))}];

export const ISO_4217_CODES: ReadonlySet<string> = new Set([
${rows.join('\n')}
]);
`);
