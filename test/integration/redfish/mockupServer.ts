/**
 * Serves a recorded Redfish tree in DMTF "short form" over HTTP on 127.0.0.1: the resource at
 * /redfish/v1/<path> is <folder>/<path>/index.json. Read-only, like the BMC it was recorded from;
 * writes (including session creation) answer 405.
 */
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';

export interface MockupServer {
  port: number;
  close(): Promise<void>;
}

export async function serveMockup(folder: string): Promise<MockupServer> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://mockup');
    if (req.method !== 'GET') {
      res.writeHead(405, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'Base.1.0.ActionNotSupported', message: `${req.method} is not supported by a recorded tree` } }));
      return;
    }
    const rel = url.pathname.replace(/^\/redfish\/v1\/?/, '').replace(/\/+$/, '');
    const safe = normalize(rel).replace(/^(\.\.(\/|$))+/, '');
    const file = join(folder, safe, 'index.json');
    readFile(file)
      .then((body) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(body);
      })
      .catch(() => {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'Base.1.0.ResourceMissingAtURI', message: `${url.pathname} not found` } }));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
