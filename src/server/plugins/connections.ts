/**
 * The server's open connections and how many requests each is serving, so that shutdown can close
 * at once every connection that serves none: idle keep-alive sockets, and sockets that connected
 * but never sent a request (Node's closeIdleConnections leaves those open, and they would hold the
 * process until the shutdown deadline).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** What the `connections` decorator offers. */
export interface Connections {
  /** Ends every connection that has no request in flight; returns how many. */
  closeIdle(): number;
}

declare module 'fastify' {
  interface FastifyInstance {
    connections: Connections;
  }
}

async function registerConnections(app: FastifyInstance): Promise<void> {
  const active = new Map<Socket, number>();
  app.server.on('connection', (socket: Socket) => {
    active.set(socket, 0);
    socket.once('close', () => active.delete(socket));
  });
  const change = (socket: Socket, by: number) => {
    if (active.has(socket)) active.set(socket, (active.get(socket) ?? 0) + by);
  };
  // Counted at Node's level, as soon as a request's headers are read and until its response is
  // done, whatever answers it (a route, an error, the 503 Fastify gives while closing).
  app.server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket;
    change(socket, 1);
    let counted = true;
    const end = () => {
      if (counted) change(socket, -1);
      counted = false;
    };
    response.once('finish', end);
    response.once('close', end);
  });
  app.decorate('connections', {
    closeIdle() {
      let closed = 0;
      for (const [socket, requests] of active) {
        if (requests === 0) {
          socket.destroy();
          closed++;
        }
      }
      return closed;
    },
  });
}

/** Connection tracking as a Fastify plugin. */
export const connectionsPlugin = fp(registerConnections, { name: 'vae-connections' });
