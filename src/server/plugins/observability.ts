/**
 * What an operator sees: a request id on every response, one log line per request when it
 * completes, and Prometheus metrics by route pattern (bounded label sets). Decorates the instance
 * with `metrics`.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ServerMetrics } from '../metrics.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: ServerMetrics;
  }
}

/** A request id from the client's X-Request-Id when it is sane, else a fresh UUID (Fastify's genReqId). */
export function requestId(req: { headers: Record<string, string | string[] | undefined> }): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
}

interface BoundMetrics {
  count(): void;
  time(seconds: number): void;
}

async function registerObservability(
  app: FastifyInstance,
  { metrics }: { metrics: ServerMetrics },
): Promise<void> {
  app.decorate('metrics', metrics);
  // Label-bound metric children, one set per (method, route, status), so that each request skips
  // prom-client's label hashing.
  const bound = new Map<string, BoundMetrics>();
  const boundMetrics = (method: string, route: string, status: number): BoundMetrics => {
    const key = `${method} ${route} ${status}`;
    let b = bound.get(key);
    if (b === undefined) {
      const labels = { method, route, status: String(status) };
      const requests = metrics.requests.labels(labels);
      const latency = metrics.latency.labels(labels);
      const errors =
        status >= 400
          ? metrics.errors.labels({ route, status: labels.status, kind: status >= 500 ? 'server' : 'client' })
          : undefined;
      b = {
        count: () => {
          requests.inc();
          errors?.inc();
        },
        time: (seconds) => latency.observe(seconds),
      };
      bound.set(key, b);
    }
    return b;
  };
  // Callback hooks, not async ones: they run on every request, and a promise each is measurable.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    request.log.info(
      { method: request.method, url: request.url, statusCode: reply.statusCode, ms: reply.elapsedTime },
      'request',
    );
    const m = boundMetrics(request.method, route, reply.statusCode);
    m.count();
    m.time(reply.elapsedTime / 1000);
    done();
  });
}

/** Request ids, request logs and metrics as a Fastify plugin. */
export const observabilityPlugin = fp(registerObservability, { name: 'vae-observability' });
