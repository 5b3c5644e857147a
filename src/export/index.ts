/**
 * `vae-onnx/export` in Node: everything of the browser door, and `exportVae`, which reads a model
 * directory and writes its ONNX files.
 */
export * from './common.js';
export { exportVae } from './export-dir.js';
export { fileSource, loadModelJsonFrom } from './model-json-node.js';
