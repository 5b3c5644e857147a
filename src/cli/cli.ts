/**
 * The `vae` command line: train, eval, export, sample, encode, decode, reconstruct, score,
 * interpolate, parity, serve, web and demo. Library code never prints; this file and
 * the commands are the only ones that talk to the terminal.
 */
import { type Command, helpText, parseCommandLine, UsageError } from './args.js';
import { decodeCommand } from './commands/decode.js';
import { demoCommand } from './commands/demo.js';
import { encodeCommand } from './commands/encode.js';
import { evalCommand } from './commands/eval.js';
import { exportCommand } from './commands/export.js';
import { interpolateCommand } from './commands/interpolate.js';
import { parityCommand } from './commands/parity.js';
import { reconstructCommand } from './commands/reconstruct.js';
import { sampleCommand } from './commands/sample.js';
import { scoreCommand } from './commands/score.js';
import { serveCommand } from './commands/serve.js';
import { trainCommand } from './commands/train.js';
import { webCommand } from './commands/web.js';

/** Every command, by name. */
export const COMMANDS: readonly Command[] = [
  trainCommand,
  evalCommand,
  exportCommand,
  sampleCommand,
  encodeCommand,
  decodeCommand,
  reconstructCommand,
  scoreCommand,
  interpolateCommand,
  parityCommand,
  serveCommand,
  webCommand,
  demoCommand,
];

function mainHelp(): string {
  const rows = COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`);
  return [
    'vae — train, export and run Variational Autoencoders, no Python',
    '',
    'usage: vae <command> [options]',
    '',
    ...rows,
    '',
    'Run vae <command> --help for its options.',
    '',
  ].join('\n');
}

/**
 * Runs the CLI on `argv` (without node and script) and returns the exit code: 0 ok, 1 failure,
 * 2 usage error. Errors print as one line, without a stack.
 */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp());
    return name === undefined ? 2 : 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  try {
    if (cmd === undefined) {
      throw new UsageError(
        `vae: unknown command "${name}"; expected one of ${COMMANDS.map((c) => c.name).join(', ')}`,
      );
    }
    const args = parseCommandLine(cmd, rest);
    if (args === 'help') {
      process.stdout.write(helpText(cmd));
      return 0;
    }
    return (await cmd.run(args)) ?? 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(
        `${error.message}\n${cmd ? `Run vae ${cmd.name} --help for usage.` : 'Run vae --help.'}\n`,
      );
      return 2;
    }
    const e = error as Error;
    process.stderr.write(`error: ${e.message}\n`);
    if (process.env.VAE_DEBUG) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}
