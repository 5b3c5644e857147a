/**
 * Turning what callers pass (nested number arrays, or a Float32Array with a shape) into one flat
 * float32 batch, with errors that name the argument and the expected and received shape.
 */

/** A batch of examples: row-major values and the shape, batch first. */
export interface Batch {
  data: Float32Array;
  shape: number[];
}

/** What `encode`, `decode` and friends accept: nested arrays (one entry per example) or a Batch. */
export type BatchInput = Batch | readonly unknown[];

function describe(shape: readonly number[]): string {
  return shape.length === 1 ? `${shape[0]} values` : `shape [${shape.join(', ')}]`;
}

function nestedShape(value: unknown): number[] {
  const shape: number[] = [];
  let v = value;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0];
  }
  return shape;
}

/**
 * Flattens `input` into a Batch whose examples each have `exampleShape`.
 * A flat example is accepted wherever its size matches (e.g. 784 values for a 28×28×1 image).
 * @param fn - the calling method, for messages (`decode`).
 * @param arg - the argument's name, for messages (`z`).
 * @throws TypeError for a wrong type or ragged rows, RangeError for a wrong size or a non-finite value.
 */
export function toBatch(input: BatchInput, exampleShape: readonly number[], fn: string, arg: string): Batch {
  const size = exampleShape.reduce((a, b) => a * b, 1);
  if (!Array.isArray(input)) {
    const batch = input as Batch;
    if (!(batch?.data instanceof Float32Array) || !Array.isArray(batch.shape)) {
      throw new TypeError(
        `${fn}: "${arg}" must be an array of examples or { data: Float32Array, shape }, got ${typeName(input)}`,
      );
    }
    const [n, ...rest] = batch.shape;
    const perRow = rest.reduce((a, b) => a * b, 1);
    if (n === undefined || perRow !== size) {
      throw new RangeError(
        `${fn}: each row of "${arg}" must have ${describe(exampleShape)}, got shape [${batch.shape.join(', ')}]`,
      );
    }
    if (batch.data.length !== n * size) {
      throw new RangeError(
        `${fn}: "${arg}".data has ${batch.data.length} values, shape [${batch.shape.join(', ')}] needs ${n * size}`,
      );
    }
    checkFinite(batch.data, fn, arg, size);
    // onnxruntime refuses views of shared memory ("Invalid argument"); such data is copied.
    const shared = typeof SharedArrayBuffer !== 'undefined' && batch.data.buffer instanceof SharedArrayBuffer;
    return { data: shared ? batch.data.slice() : batch.data, shape: [n, ...exampleShape] };
  }
  const rows = input as readonly unknown[];
  if (rows.length === 0)
    throw new RangeError(`${fn}: "${arg}" must hold at least one example, got an empty array`);
  const data = new Float32Array(rows.length * size);
  const first = nestedShape(rows[0]);
  rows.forEach((row, i) => {
    const flat = flattenRow(row, fn, `${arg}[${i}]`);
    if (flat.length !== size) {
      const got = nestedShape(row);
      throw new RangeError(
        `${fn}: each row of "${arg}" must have ${describe(exampleShape)}, got ${got.length <= 1 ? `${flat.length} values` : `shape [${got.join(', ')}]`} in row ${i}`,
      );
    }
    if (i > 0 && nestedShape(row).join() !== first.join()) {
      throw new TypeError(
        `${fn}: "${arg}" is ragged: row 0 has shape [${first}], row ${i} has [${nestedShape(row)}]`,
      );
    }
    data.set(flat, i * size);
  });
  checkFinite(data, fn, arg, size);
  return { data, shape: [rows.length, ...exampleShape] };
}

function flattenRow(row: unknown, fn: string, path: string): number[] {
  if (typeof row === 'number') return [row];
  if (!Array.isArray(row))
    throw new TypeError(`${fn}: "${path}" must be a number or an array, got ${typeName(row)}`);
  const out: number[] = [];
  const walk = (v: unknown, p: string, depth: number) => {
    if (Array.isArray(v)) {
      v.forEach((e, j) => {
        walk(e, `${p}[${j}]`, depth + 1);
      });
    } else if (typeof v === 'number') {
      out.push(v);
    } else {
      throw new TypeError(`${fn}: "${p}" must be a number, got ${typeName(v)}`);
    }
  };
  walk(row, path, 0);
  return out;
}

function checkFinite(data: Float32Array, fn: string, arg: string, size: number): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (!Number.isFinite(v)) {
      throw new RangeError(
        `${fn}: "${arg}" holds ${v} at row ${Math.floor(i / size)}, index ${i % size}; values must be finite`,
      );
    }
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? (v.constructor?.name ?? 'an object') : typeof v;
}

/** Splits a Batch into nested arrays, one per example, each shaped like the example. */
export function toArrays(batch: Batch): unknown[] {
  const [n = 0, ...rest] = batch.shape;
  const size = rest.reduce((a, b) => a * b, 1);
  const nest = (flat: Float32Array, dims: number[]): unknown => {
    const [d, ...inner] = dims;
    if (d === undefined) return flat[0];
    if (inner.length === 0) return Array.from(flat);
    const step = inner.reduce((a, b) => a * b, 1);
    return Array.from({ length: d }, (_, i) => nest(flat.subarray(i * step, (i + 1) * step), inner));
  };
  return Array.from({ length: n }, (_, i) => nest(batch.data.subarray(i * size, (i + 1) * size), rest));
}

/** The first value outside [0, 1] (which a Bernoulli likelihood cannot score), or undefined. */
export function findOutsideUnitInterval(
  batch: Batch,
): { row: number; index: number; value: number } | undefined {
  const [n = 1] = batch.shape;
  const size = batch.data.length / n;
  for (let i = 0; i < batch.data.length; i++) {
    const value = batch.data[i] as number;
    if (value < 0 || value > 1) return { row: Math.floor(i / size), index: i % size, value };
  }
  return undefined;
}

/**
 * Checks that examples suit a Bernoulli likelihood: every value in [0, 1].
 * @throws RangeError naming the argument, the row and the value.
 */
export function checkUnitInterval(batch: Batch, fn: string, arg: string): void {
  const bad = findOutsideUnitInterval(batch);
  if (bad) {
    throw new RangeError(
      `${fn}: "${arg}" holds ${bad.value} at row ${bad.row}, index ${bad.index}; a Bernoulli likelihood expects values in [0, 1]`,
    );
  }
}
