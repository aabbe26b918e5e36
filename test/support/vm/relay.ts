/**
 * A byte relay between a TCP port and a Unix socket, either way round. Unix sockets are file
 * system objects, not network-namespaced, so a pair of relays carries a connection from inside a
 * site namespace to a server in the host namespace without any veth or route between the two.
 * close() cuts every open connection too: that is how a test unplugs the cloud.
 */
import { createConnection, createServer, type Socket } from 'node:net';

export type Endpoint = { host: string; port: number } | { path: string };

export interface Relay {
  close(): Promise<void>;
}

function dial(to: Endpoint): Socket {
  return 'path' in to ? createConnection(to.path) : createConnection(to.port, to.host);
}

export function startRelay(listen: Endpoint, target: Endpoint): Promise<Relay> {
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = dial(target);
    open.add(client).add(upstream);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream).pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const ready = (): void =>
      resolve({
        close: () =>
          new Promise<void>((done) => {
            for (const s of open) s.destroy();
            server.close(() => done());
          }),
      });
    if ('path' in listen) server.listen(listen.path, ready);
    else server.listen(listen.port, listen.host, ready);
  });
}
