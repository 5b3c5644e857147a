/**
 * The model registry: the loaded models by name, each part behind a dynamic batcher (or a plain
 * run when batching is off), the server's lifecycle state, and warm-up. Decorates the instance with
 * `vae`.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { VaeModel } from '../../runtime/vae-model.js';
import { createBatcher, type RunBatch } from '../batcher.js';
import type { ServerMetrics } from '../metrics.js';
import type { ServerOptions } from '../options.js';
import { RequestError } from '../wire.js';

/** A model as the routes see it: its runs go through the batchers. */
export interface ServedModel {
  name: string;
  model: VaeModel;
  decode: RunBatch;
  encode: RunBatch | undefined;
}

/** "starting" until warm-up finishes, "ready", then "draining" once shutdown starts. */
export type ServerState = 'starting' | 'ready' | 'draining';

/** The server's state, shared by the registry and whoever shuts the server down. */
export interface Lifecycle {
  state: ServerState;
}

/** What the `vae` decorator holds. */
export interface ModelRegistry {
  readonly options: ServerOptions;
  readonly served: ReadonlyMap<string, ServedModel>;
  readonly state: ServerState;
  /**
   * The model named `name`.
   * @throws RequestError (404) listing the loaded models.
   */
  lookup(name: string): ServedModel;
  /** Runs every model once at batch 1 and at the largest batch, then turns ready. */
  warmUp(): Promise<void>;
  /**
   * Admits `work` (decoder rows) if the work in flight leaves room for it (or nothing is in flight);
   * returns the function that releases it.
   * @throws RequestError (503, with Retry-After) when the server is at capacity.
   */
  admit(work: number): () => void;
  /** Work in flight now, in decoder rows. */
  readonly inFlight: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    vae: ModelRegistry;
  }
}

/** Options of the registry plugin. */
export interface ModelsPluginOptions {
  models: ReadonlyMap<string, VaeModel>;
  options: ServerOptions;
  lifecycle: Lifecycle;
}

function servedModel(name: string, model: VaeModel, o: ServerOptions, metrics: ServerMetrics): ServedModel {
  const part = (label: 'decoder' | 'encoder', run: RunBatch): RunBatch => {
    const labels = { model: name, part: label };
    if (!o.batching) {
      return (batch) => {
        metrics.batchRows.observe(labels, batch.shape[0] ?? 0);
        metrics.batchRequests.observe(labels, 1);
        return run(batch);
      };
    }
    const batcher = createBatcher(run, {
      maxBatch: o.maxBatch,
      maxWaitMs: o.maxWaitMs,
      onRun: (rows, requests) => {
        metrics.batchRows.observe(labels, rows);
        metrics.batchRequests.observe(labels, requests);
      },
    });
    return (batch) => batcher.submit(batch);
  };
  return {
    name,
    model,
    decode: part('decoder', (z) => model.decode(z).then((x) => [x])),
    encode: model.hasEncoder
      ? part('encoder', (x) => model.encode(x).then((m) => [m.mu, m.logvar]))
      : undefined,
  };
}

async function registerModels(
  app: FastifyInstance,
  { models, options, lifecycle }: ModelsPluginOptions,
): Promise<void> {
  const served = new Map<string, ServedModel>();
  for (const [name, model] of models) served.set(name, servedModel(name, model, options, app.metrics));
  let inFlight = 0;
  const registry: ModelRegistry = {
    options,
    served,
    get inFlight() {
      return inFlight;
    },
    admit(work) {
      if (inFlight > 0 && inFlight + work > options.maxInflightWork) {
        app.metrics.rejected.inc();
        throw new RequestError(
          503,
          `the server is at capacity: ${inFlight} decoder rows of work in flight, and this request adds ${work} (the limit is ${options.maxInflightWork}); retry shortly`,
          undefined,
          { 'retry-after': '1' },
        );
      }
      inFlight += work;
      let released = false;
      return () => {
        if (!released) inFlight -= work;
        released = true;
      };
    },
    get state() {
      return lifecycle.state;
    },
    lookup(name) {
      const s = served.get(name);
      if (!s) {
        throw new RequestError(
          404,
          `unknown model ${JSON.stringify(name)}; loaded models: ${[...served.keys()].join(', ')}`,
          'name',
        );
      }
      return s;
    },
    async warmUp() {
      for (const { model } of served.values()) {
        for (const n of new Set([1, options.maxBatch])) {
          await model.decode({ data: new Float32Array(n * model.latentDim), shape: [n, model.latentDim] });
          if (model.hasEncoder) {
            const size = model.inputShape.reduce((a, b) => a * b, 1);
            await model.encode({ data: new Float32Array(n * size), shape: [n, ...model.inputShape] });
          }
        }
      }
      if (lifecycle.state === 'starting') {
        lifecycle.state = 'ready';
        app.metrics.ready.set(1);
      }
    },
  };
  app.decorate('vae', registry);
  app.addHook('onSend', (_request, reply, payload, done) => {
    // While draining, a response that was in flight closes its connection, or the keep-alive
    // socket would hold shutdown open until it times out.
    if (lifecycle.state === 'draining') reply.header('connection', 'close');
    done(null, payload);
  });
}

/** The registry as a Fastify plugin (it needs the observability plugin's metrics). */
export const modelsPlugin = fp(registerModels, { name: 'vae-models', dependencies: ['vae-observability'] });
