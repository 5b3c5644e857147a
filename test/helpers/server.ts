import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { VaeModel } from '../../src/runtime/node.js';
import { createServer, type VaeServer } from '../../src/server/app.js';
import type { ServerOptions } from '../../src/server/options.js';
import { tempDir } from './fixtures.js';

/** The shipped model every server test serves. */
export const SHIPPED = 'models/mnist-mini';

/** A running test server on a free loopback port, with the models it serves. */
export interface TestServer {
  url: string;
  server: VaeServer;
  models: Map<string, VaeModel>;
  stop(): Promise<void>;
}

/**
 * Serves the shipped mnist-mini model as "mnist-mini" and its decoder alone as "decoder-only" on
 * 127.0.0.1 with a free port, warmed up.
 */
export async function startTestServer(options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const bare = tempDir();
  copyFileSync(join(SHIPPED, 'decoder.onnx'), join(bare, 'decoder.onnx'));
  const models = new Map([
    ['mnist-mini', await VaeModel.load(SHIPPED, { threads: 1 })],
    ['decoder-only', await VaeModel.load(bare, { threads: 1 })],
  ]);
  const server = createServer(models, options);
  const url = await server.app.listen({ port: 0, host: '127.0.0.1' });
  await server.warmUp();
  return {
    url,
    server,
    models,
    async stop() {
      await server.close();
      await Promise.all([...models.values()].map((m) => m.dispose()));
    },
  };
}

/** POSTs a JSON body (or a raw string when `raw` is set) and returns status, headers and parsed JSON. */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    json: JSON.parse(text) as Record<string, unknown>,
  };
}
