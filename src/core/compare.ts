/** How far two arrays of the same computation are apart. */
export interface Difference {
  maxAbs: number;
  /** max |a − b| / max(|b|, 1e-6): relative to the reference `b`, guarded near zero. */
  maxRel: number;
  meanAbs: number;
}

/**
 * Element-wise differences between `a` and the reference `b`.
 * @throws RangeError when the lengths differ.
 */
export function compareArrays(a: ArrayLike<number>, b: ArrayLike<number>): Difference {
  if (a.length !== b.length) {
    throw new RangeError(`compareArrays: arrays have ${a.length} and ${b.length} elements; they must match`);
  }
  let maxAbs = 0;
  let maxRel = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const ref = b[i] as number;
    const d = Math.abs((a[i] as number) - ref);
    // NaN on either side must never look like agreement.
    if (Number.isNaN(d)) return { maxAbs: Number.NaN, maxRel: Number.NaN, meanAbs: Number.NaN };
    maxAbs = Math.max(maxAbs, d);
    maxRel = Math.max(maxRel, d / Math.max(Math.abs(ref), 1e-6));
    sum += d;
  }
  return { maxAbs, maxRel, meanAbs: a.length === 0 ? 0 : sum / a.length };
}
