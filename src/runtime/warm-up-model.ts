/**
 * The smallest useful ONNX model (opset 13, one Identity on a float [1]), 100 bytes. Opening it
 * makes onnxruntime-web download and compile its WebAssembly while the real model downloads, so the
 * two happen in parallel. test/runtime-contract.test.ts checks these bytes against the project's
 * graph builder.
 */
const BASE64 =
  'CAcSCHZhZS1vbm54Ggd3YXJtLXVwOkcKGgoBeBIBeRoIaWRlbnRpdHkiCElkZW50aXR5Egd3YXJtLXVwWg8KAXgSCgoICAESBAoCCAFiDwoBeRIKCggIARIECgIIAUIECgAQDQ==';

/** The warm-up model's bytes (a fresh copy each call: onnxruntime may transfer the buffer). */
export function warmUpModelBytes(): Uint8Array {
  return Uint8Array.from(atob(BASE64), (c) => c.charCodeAt(0));
}
