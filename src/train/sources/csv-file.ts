import { readFile } from 'node:fs/promises';
import { DataError } from '../errors.js';

/** Rows of a CSV file of numbers: one example per row. */
export interface CsvRows {
  values: Float32Array;
  count: number;
  columns: number;
}

/**
 * Reads a CSV file of numbers, one example per row. A first row that is not all numbers is taken
 * as a header. Blank lines are skipped.
 * @throws DataError naming the file, the line and the column of a short row or a value that is not a finite number.
 */
export async function readCsvFile(path: string): Promise<CsvRows> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new DataError(`cannot read CSV file ${path}: ${(error as Error).message}`, { cause: error });
  }
  const lines = text.split(/\r?\n/);
  const rows: number[][] = [];
  let columns = 0;
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const cells = line.split(',').map((c) => c.trim());
    const numbers = cells.map(Number);
    const isNumeric = (c: string, v: number) => c !== '' && Number.isFinite(v);
    if (rows.length === 0 && columns === 0 && !cells.some((c, j) => isNumeric(c, numbers[j] as number))) {
      columns = cells.length; // header
      return;
    }
    if (columns === 0) columns = cells.length;
    if (cells.length !== columns) {
      throw new DataError(
        `cannot read CSV file ${path}: line ${index + 1} has ${cells.length} values, expected ${columns}`,
      );
    }
    cells.forEach((c, j) => {
      if (!isNumeric(c, numbers[j] as number)) {
        throw new DataError(
          `cannot read CSV file ${path}: line ${index + 1}, column ${j + 1}: "${c}" is not a finite number`,
        );
      }
    });
    rows.push(numbers);
  });
  if (rows.length === 0) throw new DataError(`cannot read CSV file ${path}: no data rows`);
  const values = new Float32Array(rows.length * columns);
  rows.forEach((r, i) => {
    values.set(r, i * columns);
  });
  return { values, count: rows.length, columns };
}
