/** Standard normal CDF (Abramowitz & Stegun 7.1.26 for erf; |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  if (z === 0) return 0.5;
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

export const twoSidedP = (z: number): number => 2 * (1 - normalCdf(Math.abs(z)));

const Z95 = 1.959963984540054;

/** Wilson score interval (95%) of a proportion: sound at small n and near 0 or 1, unlike p ± 1.96·se. */
export function wilsonInterval(successes: number, n: number): [number, number] | null {
  if (n === 0) return null;
  const p = successes / n;
  const z2 = Z95 * Z95;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (Z95 * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/**
 * 95% interval of pA − pB by Newcombe's hybrid score method (method 10 of Newcombe,
 * Statistics in Medicine 17 (1998) 873–890): from each group's Wilson interval (lA, uA),
 * (lB, uB), with d = pA − pB,
 *   lower = d − √((pA − lA)² + (uB − pB)²),  upper = d + √((uA − pA)² + (pB − lB)²).
 * Unlike the Wald interval d ± 1.96·√(pA(1−pA)/nA + pB(1−pB)/nB), it stays inside [−1, 1]
 * and does not collapse to a point when a group is all-yes or all-no, so it holds at the
 * small group sizes holdouts start with.
 */
export function newcombeInterval(successesA: number, nA: number, successesB: number, nB: number): [number, number] | null {
  const a = wilsonInterval(successesA, nA);
  const b = wilsonInterval(successesB, nB);
  if (a === null || b === null) return null;
  const pA = successesA / nA;
  const pB = successesB / nB;
  const d = pA - pB;
  return [d - Math.sqrt((pA - a[0]) ** 2 + (b[1] - pB) ** 2), d + Math.sqrt((a[1] - pA) ** 2 + (pB - b[0]) ** 2)];
}

export interface ProportionTest {
  /** p(nudged) − p(held out). */
  difference: number;
  /** 95% interval of the difference: Newcombe's hybrid score interval (method 10). */
  interval: [number, number];
  z: number;
  /** Two-sided p-value of the pooled two-proportion z-test. */
  p: number;
}

/** Two-proportion comparison: the difference, its Newcombe interval, and the pooled z-test. */
export function twoProportionTest(successesA: number, nA: number, successesB: number, nB: number): ProportionTest | null {
  const interval = newcombeInterval(successesA, nA, successesB, nB);
  if (interval === null) return null;
  const pA = successesA / nA;
  const pB = successesB / nB;
  const pooled = (successesA + successesB) / (nA + nB);
  const sePooled = Math.sqrt(pooled * (1 - pooled) * (1 / nA + 1 / nB));
  const difference = pA - pB;
  // Both groups all-yes or all-no: no evidence of a difference.
  const z = sePooled === 0 ? 0 : difference / sePooled;
  return { difference, interval, z, p: twoSidedP(z) };
}

export interface MeanTest {
  meanA: number;
  meanB: number;
  difference: number;
  interval: [number, number];
  z: number;
  p: number;
}

/** Difference of two means with Welch's standard error and a normal approximation (fine at n ≥ 30). */
export function meanDifferenceTest(a: readonly number[], b: readonly number[]): MeanTest | null {
  if (a.length < 2 || b.length < 2) return null;
  const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const variance = (xs: readonly number[], m: number) => xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1);
  const meanA = mean(a);
  const meanB = mean(b);
  const se = Math.sqrt(variance(a, meanA) / a.length + variance(b, meanB) / b.length);
  const difference = meanA - meanB;
  const z = se === 0 ? 0 : difference / se;
  return { meanA, meanB, difference, interval: [difference - Z95 * se, difference + Z95 * se], z, p: twoSidedP(z) };
}
