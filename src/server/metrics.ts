/**
 * The server's Prometheus metrics, kept in a registry of its own so that two servers in one process
 * (as in the tests) do not share counters.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The metrics one server updates, and the registry `/metrics` exposes. */
export interface ServerMetrics {
  registry: Registry;
  /** Requests answered, by method, route pattern and status code. */
  requests: Counter<'method' | 'route' | 'status'>;
  /** Request latency in seconds, from the request's arrival to the end of the response. */
  latency: Histogram<'method' | 'route' | 'status'>;
  /** Rows in each `session.run`, by model and part (encoder or decoder). */
  batchRows: Histogram<'model' | 'part'>;
  /** Requests merged into each `session.run`, by model and part. */
  batchRequests: Histogram<'model' | 'part'>;
  /** Error responses, by route pattern, status and kind (client or server). */
  errors: Counter<'route' | 'status' | 'kind'>;
  /** 1 once warm-up is done and until shutdown starts. */
  ready: Gauge;
  /** Connections cut because the client did not send its whole request in time (a 408 where it could be written). */
  timeouts: Counter;
  /** Requests answered 503 because the work in flight was at its limit. */
  rejected: Counter;
}

const POWERS_OF_TWO = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/** Creates the metrics, with Node's process metrics (memory, CPU, event-loop lag) alongside. */
export function createMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    requests: new Counter({
      name: 'vae_http_requests_total',
      help: 'HTTP requests answered.',
      labelNames: ['method', 'route', 'status'],
      registers,
    }),
    latency: new Histogram({
      name: 'vae_http_request_duration_seconds',
      help: 'HTTP request latency in seconds.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    batchRows: new Histogram({
      name: 'vae_batch_rows',
      help: 'Rows per session.run after dynamic batching.',
      labelNames: ['model', 'part'],
      buckets: POWERS_OF_TWO,
      registers,
    }),
    batchRequests: new Histogram({
      name: 'vae_batch_requests',
      help: 'Requests merged into one session.run.',
      labelNames: ['model', 'part'],
      buckets: POWERS_OF_TWO,
      registers,
    }),
    errors: new Counter({
      name: 'vae_http_errors_total',
      help: 'Error responses: kind "client" for 4xx, "server" for 5xx.',
      labelNames: ['route', 'status', 'kind'],
      registers,
    }),
    ready: new Gauge({ name: 'vae_ready', help: '1 when the server is ready for traffic.', registers }),
    timeouts: new Counter({
      name: 'vae_http_request_timeouts_total',
      help: 'Requests not received in full within the request timeout; answered 408 and closed.',
      registers,
    }),
    rejected: new Counter({
      name: 'vae_http_requests_rejected_total',
      help: 'Requests answered 503 with Retry-After: the work in flight was at --max-inflight-work.',
      registers,
    }),
  };
}
