/**
 * Which model directories a server loads, and under which names: each directory is named by its
 * base name, and `--models-dir` adds every subdirectory that holds a decoder.onnx.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { MODEL_FILES } from '../core/model-dir.js';

/** Model names must be safe in a URL path segment. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Maps model names to directories.
 * @param dirs - model directories named on the command line.
 * @param modelsDir - a folder whose subdirectories with a decoder.onnx are models, or undefined.
 * @throws Error naming the directory when it has no decoder.onnx, when its name is not URL-safe, or
 *   when two directories share a name.
 */
export function findModelDirs(dirs: readonly string[], modelsDir?: string): Map<string, string> {
  const found = new Map<string, string>();
  const add = (dir: string) => {
    const path = resolve(dir);
    const name = basename(path);
    if (!existsSync(join(path, MODEL_FILES.decoderOnnx))) {
      throw new Error(`cannot serve ${dir}: ${MODEL_FILES.decoderOnnx} is missing (run vae export first)`);
    }
    if (!NAME.test(name)) {
      throw new Error(
        `cannot serve ${dir}: the model name "${name}" must be letters, digits, ".", "_" or "-" (it goes in URLs)`,
      );
    }
    const earlier = found.get(name);
    if (earlier !== undefined && earlier !== path) {
      throw new Error(`cannot serve two models named "${name}": ${earlier} and ${path}`);
    }
    found.set(name, path);
  };
  if (modelsDir !== undefined) {
    if (!existsSync(modelsDir) || !statSync(modelsDir).isDirectory()) {
      throw new Error(`cannot read models from ${modelsDir}: it is not a directory`);
    }
    const subdirs = readdirSync(modelsDir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(join(modelsDir, e.name, MODEL_FILES.decoderOnnx)))
      .map((e) => join(modelsDir, e.name))
      .sort();
    if (subdirs.length === 0) {
      throw new Error(
        `cannot read models from ${modelsDir}: no subdirectory has a ${MODEL_FILES.decoderOnnx}`,
      );
    }
    subdirs.forEach(add);
  }
  dirs.forEach(add);
  return found;
}
