/** The calendar fields exist (Date.parse would roll 2025-02-30 over into March). */
export function realDateTime(text: string): boolean {
  const [, y, m, d, hh = '0', mm = '0', ss = '0'] =
    /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?/.exec(text) ?? [];
  if (y === undefined) return false;
  const days = new Date(Date.UTC(Number(y), Number(m), 0)).getUTCDate();
  return (
    Number(m) >= 1 &&
    Number(m) <= 12 &&
    Number(d) >= 1 &&
    Number(d) <= days &&
    Number(hh) <= 23 &&
    Number(mm) <= 59 &&
    Number(ss) <= 59
  );
}
