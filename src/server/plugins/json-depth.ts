/**
 * JSON bodies checked for depth before they are parsed: a body nested millions of levels deep costs
 * seconds of event loop and hundreds of MB in JSON.parse, and no request of this server needs more
 * than a handful of levels. A body with a "__proto__", "constructor" or "prototype" key is refused,
 * naming it.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { MEDIA, RequestError } from '../wire.js';

/** The deepest nesting of arrays and objects in JSON text (brackets inside strings do not count). */
export function jsonDepth(text: string, stopAbove = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) {
      inString = true;
    } else if (c === 91 || c === 123) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) return deepest;
      }
    } else if (c === 93 || c === 125) {
      depth--;
    }
  }
  return deepest;
}

/** Keys refused in a body: JSON.parse makes them own properties, which a later merge could turn into prototypes. */
const POISON_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** JSON text parsed, naming what is wrong: invalid JSON (with the parser's reason) or a refused key. */
function parseBody(text: string): unknown {
  let poisoned: string | undefined;
  let value: unknown;
  try {
    value = JSON.parse(text, (key, v) => {
      if (POISON_KEYS.has(key)) poisoned ??= key;
      return v;
    });
  } catch (error) {
    throw new RequestError(400, `the body is not valid JSON: ${(error as Error).message}`, 'body');
  }
  if (poisoned !== undefined) {
    throw new RequestError(
      400,
      `the body has the key "${poisoned}", which is refused: no request of this server needs it, and it can poison object prototypes`,
      poisoned,
    );
  }
  return value;
}

async function registerJsonDepth(app: FastifyInstance, { maxDepth }: { maxDepth: number }): Promise<void> {
  app.removeContentTypeParser(MEDIA.json);
  app.addContentTypeParser(MEDIA.json, { parseAs: 'string' }, (_request, body, done) => {
    const depth = jsonDepth(body as string, maxDepth);
    if (depth > maxDepth) {
      done(
        new RequestError(400, `the body nests deeper than ${maxDepth} levels of arrays and objects`, 'body'),
      );
      return;
    }
    try {
      done(null, parseBody(body as string));
    } catch (error) {
      done(error as Error);
    }
  });
}

/** The depth-checked JSON parser as a Fastify plugin. */
export const jsonDepthPlugin = fp(registerJsonDepth, { name: 'vae-json-depth' });
