/**
 * Headless Chromium for the web app's tests, benchmarks and parity rows: Debian's chromium driven by
 * playwright-core (an optional peer: the package works without it, and says so when a command needs it).
 */
import { existsSync } from 'node:fs';

/** Debian's Chromium. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags for Debian's headless Chromium on a machine without a network (tests, benchmarks). */
export const CHROMIUM_ARGS = Object.freeze([
  '--headless',
  '--no-sandbox',
  // WebGPU on SwiftShader where there is no GPU; it needs the GPU process, so no --disable-gpu.
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
]);

/** playwright-core, or why it cannot be had: Chromium missing, or playwright-core not installed. */
export async function loadPlaywright(): Promise<
  { playwright: typeof import('playwright-core') } | { missing: string }
> {
  if (!existsSync(CHROMIUM_PATH)) {
    return { missing: `Chromium is not installed at ${CHROMIUM_PATH} (apt-get install chromium)` };
  }
  try {
    return { playwright: await import('playwright-core') };
  } catch {
    return {
      missing:
        'playwright-core is not installed; it drives Chromium here and is an optional peer dependency (npm install playwright-core)',
    };
  }
}
