/** Where the CLI talks: results to stdout, progress and notes to stderr. */
export const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** A note for the user on stderr (backend chosen, files written). */
export const note = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** Formats a number with thousands separators. */
export const thousands = (n: number): string => Math.round(n).toLocaleString('en-US');
