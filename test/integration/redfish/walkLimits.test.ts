/**
 * A BMC's tree bounds the work its walk may cause: a collection that lists thousands of
 * members, pages that link in a circle, one member listed a thousand times, or an answer that
 * never ends. Each BMC here is a real HTTP server on loopback that answers as such a BMC would;
 * discovery reports the hostile one with the reason and still finds the honest one beside it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_WALK_LIMITS } from '../../../onprem-agent/redfish/collect.js';
import { discover } from '../../../onprem-agent/redfish/discover.js';
import { MAX_RESPONSE_BYTES } from '../../../onprem-agent/redfish/transport.js';

type Answer = (res: ServerResponse) => void;
type Tree = (path: string) => object | Answer | undefined;

interface FakeBmc {
  port: number;
  /** GETs per path, as the BMC saw them. */
  gets: Map<string, number>;
  close(): Promise<void>;
}

async function serveBmc(tree: Tree): Promise<FakeBmc> {
  const gets = new Map<string, number>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://bmc').pathname.replace(/\/+$/, '') || '/';
    gets.set(path, (gets.get(path) ?? 0) + 1);
    const answer = req.method === 'GET' ? tree(path) : undefined;
    if (typeof answer === 'function') return answer(res);
    res.writeHead(answer ? 200 : 404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(answer ?? { error: { message: `${path} not found` } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    gets,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

const ROOT = { RedfishVersion: '1.6.0', Systems: { '@odata.id': '/redfish/v1/Systems' } };
const system = (id: string) => ({ '@odata.id': `/redfish/v1/Systems/${id}`, Id: id, PowerState: 'On', SerialNumber: `SN-${id}` });
const ref = (path: string) => ({ '@odata.id': path });

/** One ordinary BMC with one system, scanned beside each hostile one. */
const honest: Tree = (p) => (p === '/redfish/v1' ? ROOT : p === '/redfish/v1/Systems' ? { Members: [ref('/redfish/v1/Systems/ok')] } : p === '/redfish/v1/Systems/ok' ? system('ok') : undefined);

async function scan(tree: Tree): Promise<{ report: Awaited<ReturnType<typeof discover>>; bmc: FakeBmc }> {
  const bmc = await serveBmc(tree);
  const good = await serveBmc(honest);
  try {
    const report = await discover({ targets: [{ host: '127.0.0.1', port: bmc.port, scheme: 'http' }, { host: '127.0.0.1', port: good.port, scheme: 'http' }] });
    expect(report.hardware.map((h) => h.serial)).toContain('SN-ok');
    return { report, bmc };
  } finally {
    await bmc.close();
    await good.close();
  }
}

const unreachableAt = (report: Awaited<ReturnType<typeof discover>>, port: number) => report.unreachable.find((u) => u.port === port);

test('a collection listing more members than a BMC has is refused without fetching them', async () => {
  const many = DEFAULT_WALK_LIMITS.maxMembers * 5;
  const { report, bmc } = await scan((p) => {
    if (p === '/redfish/v1') return ROOT;
    if (p === '/redfish/v1/Systems') return { Members: Array.from({ length: many }, (_, i) => ref(`/redfish/v1/Systems/s${i}`)) };
    const m = /^\/redfish\/v1\/Systems\/(s\d+)$/.exec(p);
    return m ? system(m[1]!) : undefined;
  });
  const u = unreachableAt(report, bmc.port);
  expect(u).toMatchObject({ stage: 'walk' });
  expect(u?.reason).toContain(`collection /redfish/v1/Systems lists more than ${DEFAULT_WALK_LIMITS.maxMembers} members`);
  expect([...bmc.gets.keys()].filter((k) => k.startsWith('/redfish/v1/Systems/s'))).toEqual([]);
});

test('pages that link in a circle end the list, and each member is read once', async () => {
  const { report, bmc } = await scan((p) => {
    if (p === '/redfish/v1') return ROOT;
    if (p === '/redfish/v1/Systems') return { Members: [ref('/redfish/v1/Systems/A')], 'Members@odata.nextLink': '/redfish/v1/Systems/page2' };
    if (p === '/redfish/v1/Systems/page2') return { Members: [ref('/redfish/v1/Systems/B'), ref('/redfish/v1/Systems/A')], 'Members@odata.nextLink': '/redfish/v1/Systems' };
    return p === '/redfish/v1/Systems/A' ? system('A') : p === '/redfish/v1/Systems/B' ? system('B') : undefined;
  });
  expect(unreachableAt(report, bmc.port)).toBeUndefined();
  expect(report.hardware.map((h) => h.serial).sort()).toEqual(['SN-A', 'SN-B', 'SN-ok']);
  expect(bmc.gets.get('/redfish/v1/Systems')).toBe(1);
  expect(bmc.gets.get('/redfish/v1/Systems/page2')).toBe(1);
  expect(bmc.gets.get('/redfish/v1/Systems/A')).toBe(1);
});

test('one member listed a thousand times is one system, fetched once', async () => {
  const { report, bmc } = await scan((p) => {
    if (p === '/redfish/v1') return ROOT;
    if (p === '/redfish/v1/Systems') return { Members: Array.from({ length: 1000 }, () => ref('/redfish/v1/Systems/A')) };
    return p === '/redfish/v1/Systems/A' ? system('A') : undefined;
  });
  expect(unreachableAt(report, bmc.port)).toBeUndefined();
  expect(report.hardware.filter((h) => h.serial === 'SN-A')).toHaveLength(1);
  expect(bmc.gets.get('/redfish/v1/Systems/A')).toBe(1);
});

test('an answer that never ends is cut at the response bound and the BMC reported', async () => {
  let sent = 0;
  const { report, bmc } = await scan((p) => {
    if (p === '/redfish/v1') return ROOT;
    if (p !== '/redfish/v1/Systems') return undefined;
    return (res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const chunk = Buffer.alloc(1 << 20, 0x20);
      const more = (): void => {
        // Endless, until the agent hangs up.
        while (!res.destroyed && res.write(chunk)) sent += chunk.length;
        if (!res.destroyed) res.once('drain', more);
      };
      res.on('close', () => res.destroy());
      res.write('{"Members":[');
      more();
    };
  });
  const u = unreachableAt(report, bmc.port);
  expect(u).toMatchObject({ stage: 'walk' });
  expect(u?.reason).toContain(`answered more than ${MAX_RESPONSE_BYTES} bytes`);
  // The agent stopped reading near the bound, not after the BMC gave up.
  expect(sent).toBeLessThan(MAX_RESPONSE_BYTES * 4);
});
