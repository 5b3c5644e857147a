/**
 * tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel, so no conv layer can be trained on it
 * (and the pure-JS cpu backend takes minutes per step for the conv VAE). This registers one:
 * an im2col in JavaScript, written already transposed, then the wasm backend's own BatchMatMul,
 * which runs at full speed on untransposed operands.
 */
import * as tf from '@tensorflow/tfjs';

interface WasmBackendLike {
  readSync(dataId: object): ArrayLike<number>;
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
  disposeData(dataId: object): boolean;
}

/** The gradient of a 2-D convolution with respect to its filter, dW[kh, kw, ci, co], for NHWC x and dy. */
function conv2dBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as {
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  if (attrs.dataFormat !== 'NHWC')
    throw new Error(`Conv2DBackpropFilter (wasm, vae-onnx): only NHWC, got ${attrs.dataFormat}`);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const {
    batchSize: N,
    inHeight: H,
    inWidth: W,
    inChannels: C,
    outHeight: Ho,
    outWidth: Wo,
    outChannels: Co,
  } = info;
  const {
    filterHeight: KH,
    filterWidth: KW,
    strideHeight: SH,
    strideWidth: SW,
    dilationHeight: DH,
    dilationWidth: DW,
  } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const K = KH * KW * C;
  const M = N * Ho * Wo;
  const xData = backend.readSync(x.dataId) as Float32Array;
  const cols = backend.makeOutput([1, K, M], 'float32');
  const colsT = backend.typedArrayFromHeap(cols);
  colsT.fill(0);
  for (let ky = 0; ky < KH; ky++) {
    for (let kx = 0; kx < KW; kx++) {
      for (let n = 0; n < N; n++) {
        for (let oy = 0; oy < Ho; oy++) {
          const iy = oy * SH - top + ky * DH;
          if (iy < 0 || iy >= H) continue;
          for (let ox = 0; ox < Wo; ox++) {
            const ix = ox * SW - left + kx * DW;
            if (ix < 0 || ix >= W) continue;
            const m = (n * Ho + oy) * Wo + ox;
            const src = ((n * H + iy) * W + ix) * C;
            const row = (ky * KW + kx) * C;
            for (let c = 0; c < C; c++) colsT[(row + c) * M + m] = xData[src + c] as number;
          }
        }
      }
    }
  }
  // dy is already [M, Co] in memory: reshape it for the matMul without a copy.
  const reshape = tf.getKernel('Reshape', 'wasm');
  const matMul = tf.getKernel('BatchMatMul', 'wasm');
  if (!reshape || !matMul) throw new Error('the wasm backend lacks Reshape or BatchMatMul');
  const dy3 = reshape.kernelFunc({
    inputs: { x: dy },
    backend: args.backend as never,
    attrs: { shape: [1, M, Co] },
  }) as tf.TensorInfo;
  const product = matMul.kernelFunc({
    inputs: { a: cols, b: dy3 },
    backend: args.backend as never,
    attrs: { transposeA: false, transposeB: false },
  }) as tf.TensorInfo;
  const out = reshape.kernelFunc({
    inputs: { x: product },
    backend: args.backend as never,
    attrs: { shape: attrs.filterShape },
  }) as tf.TensorInfo;
  backend.disposeData(cols.dataId);
  backend.disposeData(dy3.dataId);
  backend.disposeData(product.dataId);
  return out;
}

/** Registers the kernel for the wasm backend once; later calls do nothing. */
export function registerWasmConvFilterGrad(): void {
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm') !== undefined) return;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: conv2dBackpropFilter as never,
  });
}
