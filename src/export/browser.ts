/**
 * `vae-onnx/export` in a browser: tfjs-layers models and a VAE's networks to ONNX bytes, with no
 * Node module (no file system: `vaeToOnnx` returns the bytes; `packModelZip` from `vae-onnx/train` or
 * `vae-onnx-runtime` puts them in one file for a download).
 */
export * from './common.js';
