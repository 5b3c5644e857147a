/** JSON Schemas the routes share: the error body, and the error answers of every model route. */
import { MEDIA } from '../wire.js';

/** The JSON body of every error answer. */
export const errorSchema = {
  type: 'object',
  required: ['statusCode', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    message: { type: 'string', description: 'what was wrong, naming what was expected and what came' },
    field: { type: 'string', description: 'the part of the request the error is about, e.g. z[3]' },
  },
};

const errorAnswer = (description: string) => ({
  description,
  content: { [MEDIA.json]: { schema: errorSchema } },
});

/** The error answers of the model routes, by status. */
export const errorResponses = {
  400: errorAnswer('invalid request'),
  404: errorAnswer('unknown model, or the model cannot do this'),
  406: errorAnswer('no acceptable response type'),
  413: errorAnswer('body over the size limit'),
  415: errorAnswer('unsupported body type'),
  422: errorAnswer(
    "the model's output for an input is not a finite number (the input is far outside what it represents)",
  ),
  503: errorAnswer('at capacity (retry after the Retry-After header) or shutting down'),
};
