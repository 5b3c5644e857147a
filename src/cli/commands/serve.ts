import { pino } from 'pino';
import { type NodeBackend, VaeModel } from '../../runtime/node.js';
import { createServer } from '../../server/app.js';
import { findModelDirs } from '../../server/model-dirs.js';
import { DEFAULT_SERVER_OPTIONS } from '../../server/options.js';
import { type Command, choiceFlag, intFlag, numberFlag, stringFlag, UsageError } from '../args.js';
import { LIKELIHOOD_FLAG, likelihoodFlag } from '../model-data.js';
import { untilStopped } from '../stop-signal.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** `vae serve DIR...`: the HTTP inference service over onnxruntime-node. */
export const serveCommand: Command = {
  name: 'serve',
  usage: 'DIR... [--models-dir D] [--port 8080] [--host 127.0.0.1] [--threads N] [--no-batching]',
  flags: {
    'models-dir': {
      type: 'string',
      value: 'D',
      description: 'also serve every subdirectory of D that holds a decoder.onnx',
    },
    port: { type: 'string', value: 'P', description: 'port (0: any free port)', default: '8080' },
    host: { type: 'string', value: 'HOST', description: 'address to listen on', default: '127.0.0.1' },
    backend: {
      type: 'string',
      value: 'NAME',
      description:
        'auto (onnxruntime-node on the CPU when installed, else wasm), cpu, cuda, or wasm (onnxruntime-web in Node)',
      default: 'auto',
    },
    device: { type: 'string', value: 'ID', description: 'CUDA device id (backend cuda)', default: '0' },
    fallback: {
      type: 'boolean',
      description: 'with backend cuda: run on cpu, with a logged warning, when CUDA cannot be used',
    },
    threads: {
      type: 'string',
      value: 'N',
      description: "intra-op threads per ONNX session (default: onnxruntime's choice)",
    },
    'max-batch': {
      type: 'string',
      value: 'N',
      description: 'most rows per request and per merged session.run',
      default: String(DEFAULT_SERVER_OPTIONS.maxBatch),
    },
    'max-wait-ms': {
      type: 'string',
      value: 'MS',
      description: 'longest wait for other requests to join a batch',
      default: String(DEFAULT_SERVER_OPTIONS.maxWaitMs),
    },
    'no-batching': { type: 'boolean', description: 'one session.run per request' },
    'max-samples': {
      type: 'string',
      value: 'K',
      description: 'most importance samples per example in /score',
      default: String(DEFAULT_SERVER_OPTIONS.maxSamples),
    },
    'max-score-decodes': {
      type: 'string',
      value: 'N',
      description: 'most rows × samples in one /score request',
      default: String(DEFAULT_SERVER_OPTIONS.maxScoreDecodes),
    },
    'max-inflight-work': {
      type: 'string',
      value: 'N',
      description:
        'most decoder rows of work in flight over all requests (a score request counts rows × (samples + 1)); past it: 503 with Retry-After',
      default: String(DEFAULT_SERVER_OPTIONS.maxInflightWork),
    },
    'body-limit': {
      type: 'string',
      value: 'BYTES',
      description: 'largest request body',
      default: String(DEFAULT_SERVER_OPTIONS.bodyLimit),
    },
    'request-timeout': {
      type: 'string',
      value: 'MS',
      description: 'time a client has to send a whole request; slower ones get 408 and are cut off',
      default: String(DEFAULT_SERVER_OPTIONS.requestTimeoutMs),
    },
    'drain-grace': {
      type: 'string',
      value: 'MS',
      description: 'on SIGTERM: /readyz answers 503 this long while requests are still served',
      default: '5000',
    },
    'shutdown-timeout': {
      type: 'string',
      value: 'MS',
      description:
        'on SIGTERM, after the grace: the longest wait for requests in flight before connections are cut',
      default: String(DEFAULT_SERVER_OPTIONS.shutdownTimeoutMs),
    },
    ...LIKELIHOOD_FLAG,
    'log-level': {
      type: 'string',
      value: 'LEVEL',
      description: `log level: ${LOG_LEVELS.join(', ')}`,
      default: 'info',
    },
  },
  details: [
    'Models are named by their directory name: POST /v1/models/NAME/decode and so on; GET /v1/models',
    'lists them, /openapi.json describes every route, /metrics is Prometheus text, /healthz and /readyz',
    'are for orchestrators (/readyz turns ready after warm-up). Logs are JSON lines (pino) on stdout,',
    'with a request id per request. SIGTERM or Ctrl-C: /readyz turns 503 while requests are still served',
    'for --drain-grace, then the listener closes, idle connections close, in-flight requests finish',
    '(cut after --shutdown-timeout), and the process exits 0.',
  ].join('\n'),
  async run(args) {
    const modelsDir = args.flags['models-dir'] as string | undefined;
    if (args.positionals.length === 0 && modelsDir === undefined) {
      throw new UsageError('vae serve: give at least one model directory, or --models-dir D');
    }
    const port = intFlag('serve', args, 'port', 0, 65535);
    const host = stringFlag('serve', args, 'host');
    const backend = choiceFlag<NodeBackend>('serve', args, 'backend', ['auto', 'cpu', 'cuda', 'wasm']);
    const deviceId = intFlag('serve', args, 'device', 0);
    const threads = args.flags.threads === undefined ? undefined : intFlag('serve', args, 'threads', 1, 256);
    const maxWaitMs = args.flags['max-wait-ms'] === '0' ? 0 : numberFlag('serve', args, 'max-wait-ms');
    const options = {
      batching: args.flags['no-batching'] !== true,
      maxBatch: intFlag('serve', args, 'max-batch', 1, 65536),
      maxWaitMs,
      maxSamples: intFlag('serve', args, 'max-samples', 1, 1_000_000),
      maxScoreDecodes: intFlag('serve', args, 'max-score-decodes', 1),
      maxInflightWork: intFlag('serve', args, 'max-inflight-work', 1),
      bodyLimit: intFlag('serve', args, 'body-limit', 1024),
      requestTimeoutMs: intFlag('serve', args, 'request-timeout', 100),
      drainGraceMs: intFlag('serve', args, 'drain-grace', 0),
      shutdownTimeoutMs: intFlag('serve', args, 'shutdown-timeout', 100),
    };
    const likelihood = likelihoodFlag('serve', args);
    const level = choiceFlag('serve', args, 'log-level', LOG_LEVELS);
    const dirs = findModelDirs(args.positionals, modelsDir);
    const logger = pino({ level, base: { pid: process.pid } });

    const models = new Map<string, VaeModel>();
    try {
      for (const [name, dir] of dirs) {
        const model = await VaeModel.load(dir, {
          backend,
          deviceId,
          fallback: args.flags.fallback === true,
          onWarning: (message) => logger.warn({ model: name }, message),
          maxBatch: options.maxBatch,
          ...(threads === undefined ? {} : { threads }),
          ...(likelihood ? { likelihood } : {}),
        });
        models.set(name, model);
        logger.info({ model: name, dir, backend: model.backend, latentDim: model.latentDim }, 'model loaded');
      }
      const server = createServer(models, { ...options, logger });
      const stop = untilStopped();
      let url: string;
      try {
        url = await server.app.listen({ port, host });
        await server.warmUp();
      } catch (error) {
        // A failed warm-up must not leave the listener holding the process open.
        await server.close();
        throw error;
      }
      logger.info({ url, models: [...models.keys()], ...options }, 'ready');
      const signal = await stop;
      logger.info({ signal }, 'shutting down: finishing in-flight requests');
      await server.close();
      logger.info('stopped');
      return 0;
    } finally {
      await Promise.all([...models.values()].map((m) => m.dispose()));
    }
  },
};
