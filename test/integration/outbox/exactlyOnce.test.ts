/**
 * Exactly-once effect under a crash: the agent process is SIGKILLed after the cloud stored a
 * batch but before the agent heard the acknowledgement (an HTTP proxy forwards the request,
 * waits for the gateway's answer, then kills the child instead of passing it on). The restarted
 * outbox redelivers that batch; the cloud answers DUPLICATE; every observation exists once.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { startTestCloud, type TestCloud } from '../sync/cloud.js';
import { siteFixture, type SiteFixture } from '../sync/siteFixture.js';

const CHILD = join(process.cwd(), 'test/integration/outbox/deliverChild.ts');

function runChild(args: string[], token: string, onSpawn?: (pid: number) => void): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { env: { ...process.env, AGENT_TOKEN: token, NODE_ENV: 'test' }, stdio: ['ignore', 'pipe', 'pipe'] });
    onSpawn?.(p.pid!);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe('outbox: exactly-once effect when delivery is killed mid-way', () => {
  let cloud: TestCloud;
  let fx: SiteFixture;
  let dir: string;
  let proxy: Server;
  let childPid = 0;
  let killAfter = 0;
  let forwarded = 0;
  beforeAll(async () => {
    cloud = await startTestCloud();
    fx = await siteFixture(cloud.gw, 'outbox');
    dir = mkdtempSync(join(tmpdir(), 'skyboot-outbox-'));
    proxy = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const upstream = await fetch(`${cloud.gw.url}${req.url}`, { method: req.method, headers: { 'content-type': 'application/json', authorization: String(req.headers.authorization) }, body: Buffer.concat(chunks) });
      const body = Buffer.from(await upstream.arrayBuffer());
      forwarded++;
      if (killAfter && forwarded === killAfter) {
        process.kill(childPid, 'SIGKILL'); // the cloud has stored the batch; the agent never hears so
        res.destroy();
        return;
      }
      res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  });
  afterAll(async () => {
    proxy.closeAllConnections();
    await new Promise<void>((r) => proxy.close(() => r()));
    await cloud.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('redelivers the unacknowledged batch and the cloud applies it once', async () => {
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const outboxDir = join(dir, 'outbox');
    killAfter = 2; // batch 1 acknowledged, batch 2 stored but its acknowledgement lost
    const first = await runChild([outboxDir, url, '10'], fx.agentToken, (pid) => (childPid = pid));
    expect(first.signal).toBe('SIGKILL');
    expect(readdirSync(join(outboxDir, 'pending')).filter((f) => f.endsWith('.json'))).toHaveLength(6);

    killAfter = 0;
    const second = await runChild([outboxDir, url], fx.agentToken);
    expect(second.code).toBe(0);
    const stats = JSON.parse(second.stdout) as { depth: number; delivered: number; duplicates: number };
    expect(stats).toMatchObject({ depth: 0, delivered: 2, duplicates: 4 });

    const obs = await cloud.gw.aws.clients.doc.send(
      new QueryCommand({ TableName: cloud.gw.aws.tableName, IndexName: 'GSI1', KeyConditionExpression: 'GSI1PK = :p', ExpressionAttributeValues: { ':p': 'SITE#outbox#OBS' } }),
    );
    const keys = obs.Items!.map((i) => String(i.idempotencyKey)).sort();
    expect(keys).toEqual(Array.from({ length: 10 }, (_, i) => `crash-hb-${i}`).sort());
    expect(obs.Items!.map((i) => (i.payload as { seq: number }).seq).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
