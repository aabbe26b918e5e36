/**
 * A request target that URL parsing rejects (`GET ///`, found by bench/fuzz) is the client's
 * error: 400 with the reason, not a 500 "http request failed". Real server, raw TCP client.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArtifactCache } from '../../../onprem-agent/cache/artifactCache.js';
import { createAgentHttpServer } from '../../../onprem-agent/pxe/http/server.js';

function rawRequest(port: number, target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => sock.write(`GET ${target} HTTP/1.1\r\nHost: agent\r\nConnection: close\r\n\r\n`));
    let text = '';
    sock.on('data', (d) => { text += d.toString('latin1'); });
    sock.on('end', () => resolve(text));
    sock.on('error', reject);
  });
}

describe('agent HTTP request targets', () => {
  let dir: string;
  let server: ReturnType<typeof createAgentHttpServer>;
  let port: number;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skyboot-target-'));
    server = createAgentHttpServer({ index: () => null, cache: await new ArtifactCache(join(dir, 'cache')).init(), outbox: { enqueue: async () => {} }, status: async () => ({}) });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['///', '//[::1', '////'])('answers GET %s with 400 naming the target (counted as a request error, not a 5xx)', async (target) => {
    const before = server.counters.errors;
    const res = await rawRequest(port, target);
    expect(res.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(res).toContain(`request target "${target}" is not a valid URL`);
    expect(server.counters.errors).toBe(before + 1);
  });

  it('still routes an ordinary path', async () => {
    expect((await rawRequest(port, '/status')).split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
  });
});
