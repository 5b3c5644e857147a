import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MODEL_FILES } from '../../core/model-dir.js';
import { buildWebApp, serveWebApp, WEB_DIST } from '../../node/web-server.js';
import { type Command, intFlag, onePositional } from '../args.js';
import { note, out } from '../output.js';

/** `vae web DIR`: build the web app if needed and serve it for one model directory on 127.0.0.1. */
export const webCommand: Command = {
  name: 'web',
  summary: 'serve the web app (samples, latent sliders, latent map, interpolation) for a model directory',
  usage: 'DIR [--port P] [--rebuild]',
  flags: {
    port: {
      type: 'string',
      value: 'P',
      description: 'port on 127.0.0.1 (0: any free port)',
      default: '8080',
    },
    rebuild: { type: 'boolean', description: 'build the app again even if web/dist exists' },
  },
  details:
    'The page runs the decoder with onnxruntime-web (WebAssembly threads; ?backend=webgpu to try the GPU).\nStop with Ctrl-C.',
  async run(args) {
    const dir = onePositional('web', args, 'model directory');
    const port = intFlag('web', args, 'port', 0, 65535);
    if (!existsSync(join(dir, MODEL_FILES.decoderOnnx))) {
      throw new Error(`cannot serve ${dir}: ${MODEL_FILES.decoderOnnx} is missing (run vae export first)`);
    }
    if (args.flags.rebuild || !existsSync(join(WEB_DIST, 'index.html'))) {
      note(`building the web app into ${WEB_DIST}…`);
      await buildWebApp();
    }
    const server = await serveWebApp({ modelDir: dir, port });
    out(`serving ${dir} at ${server.url} (Ctrl-C to stop)`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await server.close();
    return 0;
  },
};
