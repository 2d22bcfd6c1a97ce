/**
 * Intervals from an ensemble's members. With few members (K < 20) raw percentiles are too coarse
 * to read a 90 % interval from, so each bound is mean ± t·sd·√(1 + 1/K): the Student-t interval
 * for one more draw from the members' distribution (t with K − 1 degrees of freedom, sd the
 * members' sample standard deviation). It widens the members' spread by the uncertainty of its
 * own estimate, which matters at K = 8. One member gives no interval (NaN bounds).
 */
import tQuantile from '@stdlib/stats-base-dists-t-quantile';

/** The level every interval of the library uses unless told otherwise. */
export const INTERVAL_LEVEL = 0.9;

export interface MemberInterval {
  mean: number;
  /** the members' sample standard deviation (NaN for one member) */
  sd: number;
  lo: number;
  hi: number;
}

/** Mean, spread and the two-sided `level` interval of K member values (see the header). */
export function memberInterval(values: readonly number[], level = INTERVAL_LEVEL): MemberInterval {
  const K = values.length;
  if (K === 0) throw new Error('causalmix: an interval needs at least one member value');
  if (!(level > 0 && level < 1))
    throw new Error(`causalmix: interval level ${level} must lie strictly between 0 and 1`);
  const mean = values.reduce((a, b) => a + b, 0) / K;
  if (K === 1) return { mean, sd: NaN, lo: NaN, hi: NaN };
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (K - 1));
  const half = tQuantile(0.5 + level / 2, K - 1) * sd * Math.sqrt(1 + 1 / K);
  return { mean, sd, lo: mean - half, hi: mean + half };
}

/** Intervals element by element over K equally long member arrays. */
export function memberIntervals(
  members: readonly ArrayLike<number>[],
  level = INTERVAL_LEVEL,
): MemberInterval[] {
  const n = members[0]?.length ?? 0;
  for (const m of members)
    if (m.length !== n)
      throw new Error(`causalmix: member arrays differ in length (${m.length} vs ${n})`);
  return Array.from({ length: n }, (_, i) =>
    memberInterval(
      members.map((m) => m[i]),
      level,
    ),
  );
}
