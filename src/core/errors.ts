/** A data file or dataset that cannot be read or does not hold what it should. */
export class DataError extends Error {
  override name = 'DataError';
}
