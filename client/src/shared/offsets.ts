/**
 * Room offsets are Redis Stream ids, `<ms>-<seq>`; they compare as two numbers, not as text
 * ("9-0" < "10-0"). Pure functions: also used by tests.
 */
export function compareOffsets(a: string, b: string): number {
  const [am = "0", as = "0"] = a.split("-");
  const [bm = "0", bs = "0"] = b.split("-");
  if (am.length !== bm.length) return am.length - bm.length;
  if (am !== bm) return am < bm ? -1 : 1;
  if (as.length !== bs.length) return as.length - bs.length;
  if (as !== bs) return as < bs ? -1 : 1;
  return 0;
}
