/** A model, a layer or an option that cannot be exported to ONNX. */
export class ExportError extends Error {
  override name = 'ExportError';
}
