import { parseArgs } from 'node:util';

/** A mistake in how a command was called: printed with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** One flag of a command. */
export interface FlagSpec {
  type: 'string' | 'boolean';
  description: string;
  /** Shown in the help as the value's name, e.g. N or DIR. */
  value?: string;
  default?: string;
}

/** A CLI command: its flags, its help, and what it does. */
export interface Command {
  name: string;
  /** The usage line after `vae <name>`. */
  usage: string;
  flags: Record<string, FlagSpec>;
  /** Longer text shown after the flags in --help. */
  details?: string;
  run(args: ParsedArgs): Promise<number | undefined>;
}

/** Parsed flags and positionals of one command line. */
export interface ParsedArgs {
  flags: Record<string, string | boolean | undefined>;
  positionals: string[];
  /** The command line, for records such as card.json. */
  argv: string[];
}

/** The help text of a command, under its one-line summary. */
export function helpText(cmd: Command, summary: string): string {
  const rows = Object.entries(cmd.flags).map(([name, spec]) => {
    const left = `  --${name}${spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : ''}`;
    const def = spec.default === undefined ? '' : ` (default: ${spec.default})`;
    return `${left.padEnd(26)} ${spec.description}${def}`;
  });
  rows.push(`${'  --help'.padEnd(26)} show this help`);
  return [
    `vae ${cmd.name} — ${summary}`,
    '',
    `usage: vae ${cmd.name} ${cmd.usage}`,
    '',
    ...rows,
    ...(cmd.details ? ['', cmd.details] : []),
    '',
  ].join('\n');
}

/**
 * Parses `argv` against the command's flags. Unknown flags and missing values are UsageErrors.
 */
export function parseCommandLine(cmd: Command, argv: string[]): ParsedArgs | 'help' {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const [name, spec] of Object.entries(cmd.flags)) options[name] = { type: spec.type };
  // `--epochs -1`: a value that looks like a negative number belongs to its flag (util.parseArgs
  // would call it ambiguous); the flag's own check then says what the number must be.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const next = argv[i + 1];
    if (
      arg.startsWith('--') &&
      options[arg.slice(2)]?.type === 'string' &&
      next !== undefined &&
      /^-\d/.test(next)
    ) {
      args.push(`${arg}=${next}`);
      i++;
    } else {
      args.push(arg);
    }
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message.split('\n')[0]?.replace(/\. To specify a positional.*$/, '');
    throw new UsageError(`vae ${cmd.name}: ${message}`);
  }
  if (parsed.values.help) return 'help';
  const flags: ParsedArgs['flags'] = {};
  for (const [name, spec] of Object.entries(cmd.flags)) {
    const v = parsed.values[name];
    flags[name] = (v as string | boolean | undefined) ?? spec.default;
  }
  return { flags, positionals: parsed.positionals, argv };
}

/** A string flag's value, or a UsageError when it is required and missing. */
export function stringFlag(cmd: string, args: ParsedArgs, name: string): string {
  const v = args.flags[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`vae ${cmd}: --${name} is required`);
  return v;
}

/** An integer flag within [min, max], or a UsageError naming the flag and the value. */
export function intFlag(
  cmd: string,
  args: ParsedArgs,
  name: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = stringFlag(cmd, args, name);
  const v = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(v) || v < min || v > max) {
    const range =
      max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
    throw new UsageError(`vae ${cmd}: --${name} must be ${range}, got "${raw}"`);
  }
  return v;
}

/**
 * A comma-separated list of integers within [min, max] ("512,256"), at most `maxLength` long, or a
 * UsageError naming the flag, what it takes and the value.
 */
export function intListFlag(
  cmd: string,
  args: ParsedArgs,
  name: string,
  min: number,
  max: number,
  maxLength: number,
): number[] {
  const raw = stringFlag(cmd, args, name);
  const parts = raw.split(',').map((p) => p.trim());
  const values = parts.map(Number);
  const ok =
    parts.length <= maxLength &&
    parts.every((p) => /^\d+$/.test(p)) &&
    values.every((v) => Number.isSafeInteger(v) && v >= min && v <= max);
  if (!ok) {
    throw new UsageError(
      `vae ${cmd}: --${name} must be 1 to ${maxLength} comma-separated integers from ${min} to ${max} (e.g. 512,256), got "${raw}"`,
    );
  }
  return values;
}

/** A positive finite number flag, or a UsageError. */
export function numberFlag(cmd: string, args: ParsedArgs, name: string): number {
  const raw = stringFlag(cmd, args, name);
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v <= 0) {
    throw new UsageError(`vae ${cmd}: --${name} must be a positive number, got "${raw}"`);
  }
  return v;
}

/** A flag whose value must be one of `choices`. */
export function choiceFlag<T extends string>(
  cmd: string,
  args: ParsedArgs,
  name: string,
  choices: readonly T[],
): T {
  const raw = stringFlag(cmd, args, name);
  if (!(choices as readonly string[]).includes(raw)) {
    throw new UsageError(`vae ${cmd}: --${name} must be one of ${choices.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

/** The single positional argument a command takes (such as a model DIR). */
export function onePositional(cmd: string, args: ParsedArgs, what: string): string {
  if (args.positionals.length !== 1) {
    throw new UsageError(`vae ${cmd}: expected one ${what}, got ${args.positionals.length} arguments`);
  }
  return args.positionals[0] as string;
}

/** Parses `--image-size 28x28x1` into an image shape; undefined when the flag is absent. */
export function imageSizeFlag(cmd: string, args: ParsedArgs): [number, number, number] | undefined {
  const raw = args.flags['image-size'];
  if (raw === undefined) return undefined;
  const m = /^(\d+)x(\d+)x([13])$/.exec(String(raw));
  if (!m)
    throw new UsageError(
      `vae ${cmd}: --image-size must look like HxWxC with C 1 or 3 (e.g. 28x28x1), got "${raw}"`,
    );
  const [h, w] = [Number(m[1]), Number(m[2])];
  if (h < 1 || w < 1 || h > 4096 || w > 4096) {
    throw new UsageError(`vae ${cmd}: --image-size needs a height and a width from 1 to 4096, got "${raw}"`);
  }
  return [h, w, Number(m[3])];
}
