/** Discovery against the simulated fleet: vendor quirks, bounds, busy BMCs, dead BMCs, auth. */
import { request } from 'node:http';
import { discover } from '../../../onprem-agent/redfish/discover.js';
import { startSimulatedFleet, type SimulatedFleet } from '../../../onprem-agent/redfish/simulator/fleet.js';
import { VENDOR_PROFILES } from '../../../onprem-agent/redfish/simulator/vendors.js';
import { freeTcpPort } from '../../support/ports.js';
import { capturedLogger, fleetCredentials, targetsOf } from './support.js';

describe('discovery of a mixed simulated fleet', () => {
  let fleet: SimulatedFleet;
  afterEach(async () => fleet?.close());

  test('finds every BMC and node of every vendor, with MACs wherever the vendor puts them', async () => {
    fleet = await startSimulatedFleet({ count: 8, vendors: ['dmtf', 'ami', 'cray', 'intel'], seed: 'quirks' });
    const report = await discover({ targets: targetsOf(fleet), credentials: fleetCredentials(fleet), concurrency: 8, timeoutMs: 5000 });
    expect(report.unreachable).toEqual([]);
    expect(report.redfishEndpoints).toHaveLength(8);
    const expectedNodes = fleet.bmcs.reduce((n, b) => n + b.systems.length, 0);
    expect(report.hardware).toHaveLength(expectedNodes);
    for (const b of fleet.bmcs) {
      const p = VENDOR_PROFILES[b.vendor]!;
      const ep = report.redfishEndpoints.find((e) => e.port === b.port)!;
      expect(ep.systems).toHaveLength(p.systemsPerBmc);
      expect(ep.managers[0]!.firmwareVersion).toBe(p.firmware);
      expect(ep.authMode).toBe('session');
      expect(ep.expandUsed).toBe(p.expand);
      expect(report.interfaces.filter((i) => i.ownerXName === ep.xname)).toHaveLength(p.managerNics);
      for (const s of ep.systems) {
        const hw = report.hardware.find((h) => h.xname === s.xname)!;
        expect(s.xname).toMatch(new RegExp(`^${ep.xname}n\\d+$`));
        expect(hw.processors).toHaveLength(p.cpus + (p.gpuAs === 'processor' ? p.gpus : 0));
        expect(hw.memory).toHaveLength(p.dimms);
        expect(hw.gpus).toHaveLength(p.gpus);
        expect(hw.resetTypes).toEqual(p.resetTypes);
        expect(hw.boot.mode).toBe(p.bootMode);
        expect(hw.boot.allowableTargets).toContain('Pxe');
        expect(hw.chassis[0]!.serial).toMatch(/^CH/);
        expect(hw.uuid).toMatch(/^[0-9a-f-]{36}$/);
        const macs = report.interfaces.filter((i) => i.ownerXName === s.xname);
        expect(macs).toHaveLength(p.nicsPerSystem);
        const field = p.nicPlacement === 'chassis-adapters' ? 'AssociatedNetworkAddresses' : p.macField;
        for (const m of macs) expect(m.field).toBe(field);
      }
      // Sessions are deleted at the end of the walk.
      expect(fleet.activeSessions(b.index)).toBe(0);
    }
    // Same seed, same hardware: a second fleet reports identical MACs and serials.
    const again = await startSimulatedFleet({ count: 8, vendors: ['dmtf', 'ami', 'cray', 'intel'], seed: 'quirks' });
    try {
      const r2 = await discover({ targets: targetsOf(again), credentials: fleetCredentials(again), concurrency: 8 });
      expect(r2.interfaces.map((i) => i.mac).sort()).toEqual(report.interfaces.map((i) => i.mac).sort());
      expect(r2.hardware.map((h) => h.serial).sort()).toEqual(report.hardware.map((h) => h.serial).sort());
    } finally {
      await again.close();
    }
  });

  test('global concurrency is honoured, measured at the BMCs, and no BMC sees more than 2 requests at once', async () => {
    fleet = await startSimulatedFleet({ count: 12, vendors: ['cray', 'intel'], latencyMs: 15 });
    const report = await discover({ targets: targetsOf(fleet), credentials: fleetCredentials(fleet), concurrency: 6 });
    expect(report.redfishEndpoints).toHaveLength(12);
    const s = fleet.stats();
    expect(s.maxInFlight).toBeLessThanOrEqual(6);
    // The bound is reached, not just respected by running one at a time.
    expect(s.maxInFlight).toBeGreaterThanOrEqual(5);
    expect(s.maxInFlightPerBmc).toBeLessThanOrEqual(2);
    expect(report.stats.requests).toBe(s.requests);
  });

  test('503 bursts are retried after the Retry-After the BMC gave', async () => {
    fleet = await startSimulatedFleet({ count: 2, vendors: ['dmtf'], busy: { every: 5, length: 2, retryAfterSeconds: 1, bmcs: [0] }, recordRequests: true });
    const report = await discover({ targets: targetsOf(fleet), credentials: fleetCredentials(fleet), concurrency: 4 });
    expect(report.unreachable).toEqual([]);
    expect(report.hardware).toHaveLength(2);
    const log = fleet.requestLog().filter((r) => r.bmc === 0);
    const busy = log.filter((r) => r.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    expect(report.stats.busyResponses).toBe(fleet.stats().served503);
    for (const b of busy) {
      const retry = log.find((r) => r.at > b.at && r.method === b.method && r.path === b.path);
      expect(retry).toBeDefined();
      expect(retry!.at - b.at).toBeGreaterThanOrEqual(990);
    }
    // The other BMC was not held up by its neighbour's backoff.
    expect(fleet.stats().requestsPerBmc[1]).toBeGreaterThan(0);
  });

  test('a BMC that never answers is reported unreachable with the reason, and the rest finish', async () => {
    fleet = await startSimulatedFleet({ count: 4, vendors: ['dmtf'], hang: [2] });
    const closedPort = await freeTcpPort();
    const started = Date.now();
    const report = await discover({
      targets: [...targetsOf(fleet), { host: '127.0.0.1', port: closedPort, scheme: 'http' }],
      credentials: fleetCredentials(fleet), concurrency: 8, timeoutMs: 700,
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(report.redfishEndpoints.map((e) => e.port).sort()).toEqual([0, 1, 3].map((i) => fleet.bmcs[i]!.port).sort());
    const hung = report.unreachable.find((u) => u.port === fleet.bmcs[2]!.port)!;
    expect(hung.stage).toBe('service-root');
    expect(hung.reason).toMatch(/no answer within 0\.7s/);
    const closed = report.unreachable.find((u) => u.port === closedPort)!;
    expect(closed.stage).toBe('tcp');
    expect(closed.reason).toMatch(/ECONNREFUSED/);
  });

  test('an HTTP server that is not Redfish is not taken for a BMC', async () => {
    fleet = await startSimulatedFleet({ count: 1, vendors: ['dmtf'] });
    const { createServer } = await import('node:http');
    const other = createServer((_q, r) => r.end('{"hello":"world"}'));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    try {
      const port = (other.address() as { port: number }).port;
      const report = await discover({ targets: [{ host: '127.0.0.1', port, scheme: 'http' }], concurrency: 2 });
      expect(report.redfishEndpoints).toEqual([]);
      expect(report.unreachable[0]).toMatchObject({ port, stage: 'service-root' });
    } finally {
      other.close();
    }
  });
});

describe('authentication', () => {
  let fleet: SimulatedFleet;
  afterEach(async () => fleet?.close());

  test('a session-only BMC rejects basic auth, and discovery uses a session', async () => {
    fleet = await startSimulatedFleet({ count: 1, vendors: ['cray'] });
    const b = fleet.bmcs[0]!;
    const status = await new Promise<number>((resolve, reject) => {
      request({ host: b.host, port: b.port, path: '/redfish/v1/Systems', headers: { Authorization: `Basic ${Buffer.from(`${fleet.username}:${fleet.password}`).toString('base64')}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject).end();
    });
    expect(status).toBe(401);
    const report = await discover({ targets: targetsOf(fleet), credentials: fleetCredentials(fleet) });
    expect(report.redfishEndpoints[0]!.authMode).toBe('session');
    expect(report.hardware).toHaveLength(2);
  });

  test('where sessions are disabled, discovery falls back to basic auth', async () => {
    fleet = await startSimulatedFleet({ count: 1, vendors: ['dmtf'], noSessions: true });
    const report = await discover({ targets: targetsOf(fleet), credentials: fleetCredentials(fleet) });
    expect(report.redfishEndpoints[0]!.authMode).toBe('basic');
    expect(report.hardware).toHaveLength(1);
  });

  test('$expand advertised but failing falls back to plain GETs', async () => {
    fleet = await startSimulatedFleet({ count: 1, vendors: ['dmtf'], brokenExpand: true });
    const report = await discover({ targets: targetsOf(fleet), credentials: fleetCredentials(fleet) });
    expect(report.redfishEndpoints[0]!.expandUsed).toBe(false);
    expect(report.hardware[0]!.memory).toHaveLength(VENDOR_PROFILES.dmtf!.dimms);
  });

  test('passwords appear in no log line and no report, on success and on failure', async () => {
    fleet = await startSimulatedFleet({ count: 3, vendors: ['dmtf', 'cray', 'intel'], password: 'S3cret-Pa55word' });
    const { logger, text } = capturedLogger();
    const ok = await discover({ targets: targetsOf(fleet), credentials: fleetCredentials(fleet), logger });
    expect(ok.redfishEndpoints).toHaveLength(3);
    const bad = await discover({ targets: targetsOf(fleet), credentials: fleetCredentials(fleet, 'Wr0ng-Passw0rd'), logger });
    expect(bad.unreachable.filter((u) => u.stage === 'auth')).toHaveLength(3);
    const noBasic = await startSimulatedFleet({ count: 1, vendors: ['dmtf'], noSessions: true, password: 'S3cret-Pa55word' });
    try {
      await discover({ targets: targetsOf(noBasic), credentials: fleetCredentials(noBasic), logger });
    } finally {
      await noBasic.close();
    }
    const logged = text();
    expect(logged.length).toBeGreaterThan(1000);
    expect(logged).toContain('redfish request');
    for (const secret of ['S3cret-Pa55word', 'Wr0ng-Passw0rd', Buffer.from('root:S3cret-Pa55word').toString('base64')]) {
      expect(logged).not.toContain(secret);
      expect(JSON.stringify(ok)).not.toContain(secret);
      expect(JSON.stringify(bad)).not.toContain(secret);
    }
  });
});
