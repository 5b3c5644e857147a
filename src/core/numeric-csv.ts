/**
 * The one reader of CSV files of numbers (training data, latent codes): one row per line, a first
 * line that is not all numbers taken as a header, blank lines skipped, every error naming the file,
 * the line and the column.
 */
import { DataError } from './errors.js';

/** A CSV file's numbers, row-major. */
export interface NumericCsv {
  /** The header's names, when the file has a header. */
  header: string[] | undefined;
  values: Float32Array;
  count: number;
  /** Values per row (after `select`). */
  columns: number;
}

/** A decimal number: optional sign, digits with an optional fraction, an optional exponent. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
/** The largest float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Parses CSV text of numbers.
 * @param source - the file's name, for messages.
 * @param select - the columns to keep, given the header (default: all).
 * @throws DataError naming the file, the line and the column of a short row or a value that is not
 *   a finite number, or when there are no data rows.
 */
export function parseNumericCsv(
  text: string,
  source: string,
  select?: (header: string[] | undefined, width: number) => number[],
): NumericCsv {
  const fail = (message: string) => new DataError(`cannot read CSV file ${source}: ${message}`);
  // Decimal numbers only: Number() also reads 0x10, 0b11, 0o7 and Infinity, which no CSV writer means.
  const isNumeric = (c: string) => DECIMAL.test(c) && Number.isFinite(Number(c));
  // \r\n, \n and a lone \r (old Mac files) all end a line.
  const lines = text.split(/\r\n|\n|\r/);
  let header: string[] | undefined;
  let width = 0;
  let keep: number[] = [];
  const values: number[] = [];
  let count = 0;
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const cells = line.split(',').map((c) => c.trim());
    if (width === 0) {
      width = cells.length;
      if (!cells.some(isNumeric)) header = cells;
      keep = select ? select(header, width) : cells.map((_, j) => j);
      if (header) return;
    }
    if (cells.length !== width) throw fail(`line ${index + 1} has ${cells.length} values, expected ${width}`);
    for (const j of keep) {
      const c = cells[j] as string;
      if (!isNumeric(c)) throw fail(`line ${index + 1}, column ${j + 1}: "${c}" is not a finite number`);
      const v = Number(c);
      if (Math.abs(v) > FLOAT32_MAX) {
        throw fail(
          `line ${index + 1}, column ${j + 1}: ${c} is outside the range of float32 (±3.4e38), in which models compute`,
        );
      }
      values.push(v);
    }
    count++;
  });
  if (count === 0) throw fail('no data rows');
  return { header, values: Float32Array.from(values), count, columns: keep.length };
}
