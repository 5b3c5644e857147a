import { spawnSync } from 'node:child_process';

/** Debian's python3-onnx installs into the system python, which may not be the first python3 on PATH. */
const PYTHONS = ['/usr/bin/python3', 'python3'];

const SCRIPT = `
import sys, onnx
for path in sys.argv[1:]:
    onnx.checker.check_model(onnx.load(path), full_check=True)
print("ok")
`;

function pythonWithOnnx(): string {
  const found = PYTHONS.find((py) => spawnSync(py, ['-c', 'import onnx'], { encoding: 'utf8' }).status === 0);
  if (found === undefined) {
    throw new Error(
      `no python3 with the onnx module (tried ${PYTHONS.join(', ')}); install Debian's python3-onnx`,
    );
  }
  return found;
}

/**
 * Runs the reference ONNX checker (onnx.checker.check_model with full_check=True, from python3-onnx)
 * on each file; throws with the checker's own words when a file fails.
 */
export function checkWithReferenceChecker(...paths: string[]): void {
  const run = spawnSync(pythonWithOnnx(), ['-c', SCRIPT, ...paths], { encoding: 'utf8' });
  if (run.status !== 0 || run.stdout.trim() !== 'ok') {
    throw new Error(`onnx.checker rejected ${paths.join(', ')}:\n${run.stderr}`);
  }
}
