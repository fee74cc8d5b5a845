import currencyCodes from 'currency-codes';
import { realDateTime } from '../calendar.js';

/**
 * An instant with its zone, as ISO 8601 UTC (`…Z`): `2025-01-05T19:00:00-05:00`, Salesforce's
 * `2025-01-05T19:00:00.000+0000`, HubSpot's `…Z` or epoch milliseconds. With `utcWithoutZone`
 * (Pipedrive, whose API documents its `YYYY-MM-DD HH:MM:SS` times as UTC) that form is read as UTC.
 * Anything else (a local time, a date alone, a report's `1/5/2025 7:00 PM`) is `undefined`: whose
 * local time it was is not known, and guessing would move changes across days.
 */
export function vendorInstant(value: unknown, { utcWithoutZone = false } = {}): string | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return new Date(value).toISOString();
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d{12,14}$/.test(text)) return new Date(Number(text)).toISOString();
  const zoned = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})$/i.exec(text);
  const local = utcWithoutZone ? /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})$/.exec(text) : null;
  let iso: string | undefined;
  if (zoned) {
    const zone = zoned[2].toUpperCase() === 'Z' ? 'Z' : `${zoned[2].slice(0, 3)}:${zoned[2].slice(-2)}`;
    iso = `${zoned[1]}${zone}`;
  } else if (local) iso = `${local[1]}T${local[2]}Z`;
  if (iso === undefined || !realDateTime(iso)) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** `YYYY-MM-DD` from a date (`2025-03-31`) or a datetime (its UTC date: HubSpot's closedate); '' → null. */
export function vendorDate(value: unknown): string | null | undefined {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value !== 'string') return undefined;
  if (/^\d{4}-\d{2}-\d{2}$/.test(value.trim())) return realDateTime(value.trim()) ? value.trim() : undefined;
  const instant = vendorInstant(value);
  return instant?.slice(0, 10);
}

/**
 * A decimal amount in major units (`"1234.50"`, `1234.5`) as integer minor units of `currency`
 * (ISO 4217 minor-unit digits: 2 for EUR, 0 for JPY, 3 for BHD; 2 for a code the list does not know,
 * which the deal decider then refuses as `invalid-currency`). Empty is 0. More decimals than the
 * currency has, a negative or non-numeric amount: an error sentence.
 */
export function minorUnits(value: unknown, currency: string): { amount: number } | { error: string } {
  if (value === null || value === undefined || value === '') return { amount: 0 };
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) return { error: `amount ${JSON.stringify(value)} is not a non-negative decimal number` };
  const digits = currencyCodes.code(currency)?.digits ?? 2;
  const fraction = (match[2] ?? '').replace(/0+$/, '');
  if (fraction.length > digits) {
    return { error: `amount ${text} has more decimals than ${currency}'s ${digits} minor-unit digits` };
  }
  const minor = BigInt(match[1]) * 10n ** BigInt(digits) + BigInt(fraction.padEnd(digits, '0') || '0');
  if (minor > BigInt(Number.MAX_SAFE_INTEGER)) return { error: `amount ${text} is too large` };
  return { amount: Number(minor) };
}
