/**
 * When a long-running command (`vae serve`, `vae web`) should stop: on SIGTERM or SIGINT, and, when
 * npx (`npm exec`) started it, when npx is gone. npx exits at once on SIGTERM without passing the
 * signal on, so a container or process manager that signals the process it started would otherwise
 * leave the server running as an orphan.
 */

/** How often the parent process is checked, in ms. */
const PARENT_POLL_MS = 200;

/** True when `npm exec` / `npx` started this process (npm says so in the environment). */
export function startedByNpmExec(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.npm_command === 'exec';
}

/**
 * Resolves with the reason to stop: `SIGTERM`, `SIGINT`, or `parent exited` when `watchParent` (default:
 * when npx started this process) and this process's parent is gone (it was re-parented).
 */
export function untilStopped(options: { watchParent?: boolean } = {}): Promise<string> {
  const watchParent = options.watchParent ?? startedByNpmExec();
  return new Promise((resolve) => {
    const parent = process.ppid;
    let timer: NodeJS.Timeout | undefined;
    const finish = (reason: string) => {
      clearInterval(timer);
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      resolve(reason);
    };
    const onTerm = () => finish('SIGTERM');
    const onInt = () => finish('SIGINT');
    process.once('SIGTERM', onTerm);
    process.once('SIGINT', onInt);
    if (watchParent) {
      timer = setInterval(() => {
        if (process.ppid !== parent) finish('parent exited');
      }, PARENT_POLL_MS);
      // The server keeps the process alive, not this check: a failed start must still exit.
      timer.unref();
    }
  });
}
