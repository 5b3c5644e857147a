import { connect, type Socket } from 'node:net';

/** A raw TCP client of the test server: what it received, and when its connection closed. */
export interface RawClient {
  socket: Socket;
  received(): string;
  /** ms after `opened` at which the server closed the connection. */
  closed: Promise<number>;
  stop(): void;
}

/**
 * A client that sends a request's headers at once and then its body one byte every `intervalMs`
 * (a slowloris), or nothing at all after connecting when `headers` is empty.
 */
export function slowClient(url: string, headers: string, body: string, intervalMs: number): RawClient {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const opened = performance.now();
  let data = '';
  socket.on('data', (d) => {
    data += d.toString();
  });
  socket.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  socket.once('connect', () => {
    if (headers === '') return;
    socket.write(headers);
    let i = 0;
    timer = setInterval(() => {
      if (i < body.length && socket.writable) socket.write(body[i++] as string);
    }, intervalMs);
  });
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => {
      clearInterval(timer);
      resolve(performance.now() - opened);
    }),
  );
  return {
    socket,
    received: () => data,
    closed,
    stop: () => {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

/** The request line and headers of a JSON POST whose body will be `length` bytes. */
export function postHeaders(path: string, length: number): string {
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
}
