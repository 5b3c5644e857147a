/** GET /healthz, /readyz and /metrics: what orchestrators and Prometheus poll. */
import type { FastifyInstance } from 'fastify';
import { MEDIA } from '../wire.js';

const status = (description: string) => ({
  description,
  content: {
    [MEDIA.json]: { schema: { type: 'object', properties: { status: { type: 'string' } } } },
  },
});

/** Registers the health and metrics routes. */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/healthz',
    { schema: { summary: 'Liveness: 200 while the process serves.', response: { 200: status('alive') } } },
    async () => ({ status: 'alive' }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: 200 after warm-up, 503 while starting or shutting down.',
        response: { 200: status('ready'), 503: status('starting or draining') },
      },
    },
    async (_request, reply) => {
      reply.code(app.vae.state === 'ready' ? 200 : 503);
      return { status: app.vae.state };
    },
  );
  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics.',
        response: {
          200: {
            description: 'text exposition format',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
    async (_request, reply) => {
      reply.type(app.metrics.registry.contentType);
      return app.metrics.registry.metrics();
    },
  );
}
