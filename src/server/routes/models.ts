/** GET /v1/models and /v1/models/:name: what is loaded, with each model's shapes and card. */
import type { FastifyInstance } from 'fastify';
import type { AnyCard } from '../../core/model-dir.js';
import type { ServedModel } from '../plugins/models.js';
import { MEDIA } from '../wire.js';
import { errorResponses } from './schemas.js';

const modelSchema = {
  type: 'object',
  required: ['name', 'card', 'inputShape', 'latentDim'],
  properties: {
    name: { type: 'string' },
    card: {
      type: ['object', 'null'],
      additionalProperties: true,
      description: 'card.json, when the model has one',
    },
    inputShape: { type: 'array', items: { type: 'integer' } },
    latentDim: { type: 'integer' },
    hasEncoder: { type: 'boolean' },
    backend: { type: 'string' },
  },
};

/**
 * card.json as clients see it: without the command line that made the model, and a dataset named by
 * a local path (`csv:/home/…/sensors.csv`) reduced to its file name: no local path leaves the server.
 */
export function publicCard(card: AnyCard | undefined): Record<string, unknown> | null {
  if (!card) return null;
  const { command: _command, ...rest } = card as AnyCard & { command?: string };
  const m = /^(csv|png|idx):(.*)$/.exec(rest.dataset);
  return {
    ...rest,
    dataset: m ? `${m[1]}:${(m[2] as string).split(/[\\/]/).filter(Boolean).at(-1) ?? ''}` : rest.dataset,
  };
}

function describeModel({ name, model }: ServedModel) {
  return {
    name,
    card: publicCard(model.card),
    inputShape: model.inputShape,
    latentDim: model.latentDim,
    hasEncoder: model.hasEncoder,
    backend: model.backend,
  };
}

/** Registers the model listing routes. */
export async function modelRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/v1/models',
    {
      schema: {
        summary: 'The loaded models.',
        response: {
          200: {
            description: 'one entry per model',
            content: { [MEDIA.json]: { schema: { type: 'array', items: modelSchema } } },
          },
        },
      },
    },
    async () => [...app.vae.served.values()].map(describeModel),
  );
  app.get<{ Params: { name: string } }>(
    '/v1/models/:name',
    {
      schema: {
        summary: 'One loaded model.',
        params: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
        response: {
          200: { description: 'the model', content: { [MEDIA.json]: { schema: modelSchema } } },
          404: errorResponses[404],
        },
      },
    },
    async (request) => describeModel(app.vae.lookup(request.params.name)),
  );
}
