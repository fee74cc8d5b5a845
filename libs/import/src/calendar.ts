/**
 * The calendar fields exist (Date.parse would roll 2025-02-30 over into March): the text starts with
 * `YYYY-MM-DD`, optionally followed by `Thh:mm` and `:ss`, each field in its range. What follows them
 * is not looked at (the caller checks the whole form). The day's bound is `Date.UTC`'s days in the
 * month, two-digit years included (`Date.UTC` reads 0000–0099 as 1900–1999, so 0000-02-29 is not a
 * day). Read off the character codes: every line of an import is checked (~0.7 µs a line with a
 * regular expression and a Date; the unit spec holds the two equal).
 */
export function realDateTime(text: string): boolean {
  if (text.length < 10 || text.charCodeAt(4) !== DASH || text.charCodeAt(7) !== DASH) return false;
  const y = digits(text, 0, 4);
  const m = digits(text, 5, 2);
  const d = digits(text, 8, 2);
  if (y < 0 || m < 1 || m > 12 || d < 1 || d > daysIn(y < 100 ? 1900 + y : y, m)) return false;
  // The time is read only when `Thh:mm` is there whole (as the optional group of the expression did).
  if (text.charCodeAt(10) !== T || text.charCodeAt(13) !== COLON) return true;
  const hh = digits(text, 11, 2);
  const mm = digits(text, 14, 2);
  if (hh < 0 || mm < 0) return true;
  if (hh > 23 || mm > 59) return false;
  const ss = text.charCodeAt(16) === COLON ? digits(text, 17, 2) : 0;
  return ss <= 59;
}

const DASH = 0x2d;
const COLON = 0x3a;
const T = 0x54;
const ZERO = 0x30;

/** The number written by `count` ASCII digits at `from`; -1 when any of them is not a digit (or missing). */
function digits(text: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) {
    const digit = text.charCodeAt(i) - ZERO; // NaN past the end: fails the range check
    if (!(digit >= 0 && digit <= 9)) return -1;
    value = value * 10 + digit;
  }
  return value;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
