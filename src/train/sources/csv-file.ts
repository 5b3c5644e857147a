import { readFile } from 'node:fs/promises';
import { type NumericCsv, parseNumericCsv } from '../../core/numeric-csv.js';
import { DataError } from '../errors.js';

/** Rows of a CSV file of numbers: one example per row. */
export type CsvRows = NumericCsv;

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
  return parseNumericCsv(text, path);
}
