import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MODEL_FILES } from '../../core/model-dir.js';
import { buildWebApp, WEB_DIST } from '../../web-app/build.js';
import { serveWebApp } from '../../web-app/server.js';
import { type Command, intFlag, onePositional, stringFlag } from '../args.js';
import { note, out } from '../output.js';
import { untilStopped } from '../stop-signal.js';

/** `vae web DIR`: serve the shipped web app for one model directory on 127.0.0.1. */
export const webCommand: Command = {
  name: 'web',
  usage: 'DIR [--port P] [--host HOST] [--rebuild]',
  flags: {
    port: {
      type: 'string',
      value: 'P',
      description: 'port on 127.0.0.1 (0: any free port)',
      default: '8080',
    },
    host: { type: 'string', value: 'HOST', description: 'address to listen on', default: '127.0.0.1' },
    rebuild: {
      type: 'boolean',
      description:
        'build the app again from its sources with Vite (a checkout only; the package ships it built)',
    },
  },
  details: [
    'The page runs the decoder with onnxruntime-web: WebAssembly threads by default, ?backend=webgpu for the',
    'GPU, ?precision=fp32 for decoder.onnx instead of decoder.fp16.onnx. The app and the .wasm files are',
    'compressed once into $XDG_CACHE_HOME/vae-onnx/web (default ~/.cache). Stop with Ctrl-C or SIGTERM',
    '(also to npx, which does not pass signals on: the server stops when the process that started it ends).',
  ].join('\n'),
  async run(args) {
    const dir = onePositional('web', args, 'model directory');
    const port = intFlag('web', args, 'port', 0, 65535);
    if (!existsSync(join(dir, MODEL_FILES.decoderOnnx))) {
      throw new Error(`cannot serve ${dir}: ${MODEL_FILES.decoderOnnx} is missing (run vae export first)`);
    }
    const host = stringFlag('web', args, 'host');
    if (args.flags.rebuild || !existsSync(join(WEB_DIST, 'index.html'))) {
      note(`building the web app into ${WEB_DIST}…`);
      await buildWebApp();
    }
    let announced = false;
    const server = await serveWebApp({
      modelDir: dir,
      port,
      host,
      onCompress: (file, bytes) => {
        if (!announced) note('compressing the app and the .wasm files into the cache (once per version)…');
        announced = true;
        note(`  ${file} (${(bytes / 1e6).toFixed(1)} MB)`);
      },
    });
    out(`serving ${dir} at ${server.url} (Ctrl-C to stop)`);
    await untilStopped();
    await server.close();
    return 0;
  },
};
