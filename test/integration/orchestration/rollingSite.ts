/**
 * A simulated site for rollout tests, set up as an operator sets up a real one: the local cloud
 * (startTestCloud, siteFixture's site, agent client and image A in S3, plus image B), a real agent
 * (`startAgent`: sync, PXE/HTTP serving, the power runner and the rollout operator, workload
 * `none`) logging in with the site's client credentials, and a fleet of simulated BMCs, one node
 * each, whose simulated OS boots from the agent from its own 127.77.x.y address. The inventory is
 * filled through the GraphQL API (Redfish endpoints, nodes with their boot MAC and address, a
 * group); the BMC account goes in through `skyboot-agent discover --credentials`, which names the
 * BMCs from the inventory's endpoints and leaves the map the power path uses.
 *
 * `startSimulatedSite` is the same without an agent: the nodes boot from a fixed address, where a
 * test runs its agents (a child process, then another agent of the site taking over).
 *
 * What the tests read back is the simulator's own record (power actions, boots, the script each
 * boot was served, heartbeats) and the cloud's answers; `outOfService` and `maxOverlap` turn both
 * into intervals.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { resolveConfig } from '../../../onprem-agent/config.js';
import { startSimulatedFleet, type SimulatedFleet } from '../../../onprem-agent/redfish/simulator/fleet.js';
import { parseBootScript, type SimNodeRecord } from '../../../onprem-agent/redfish/simulator/simOs.js';
import { startAgent, type RunningAgent } from '../../../onprem-agent/run/agent.js';
import { BOOT_TOKEN_PARAM } from '../../../bootscript/bootToken.js';
import { httpFrom } from '../../support/httpFrom.js';
import { freeTcpPort } from '../../support/ports.js';
import { startTestCloud, type TestCloud } from '../sync/cloud.js';
import { blob, siteFixture, type Blob, type SiteFixture } from '../sync/siteFixture.js';

const execFileP = promisify(execFile);
const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');

export const GROUP = 'sim';

export interface RollingNode {
  xname: string;
  bmcXname: string;
  mac: string;
  ip: string;
  /** The BMC's index in the fleet (its record is fleet.nodeRecords()[bmc]: one node per BMC). */
  bmc: number;
  system: string;
}

export interface SessionNodeRecord {
  xname: string;
  phase: string;
  canary: boolean;
  attempts: number;
  startedAt: string | null;
  endedAt: string | null;
  previousImageId: string | null;
  targetImageId: string | null;
  claimedBy: string | null;
  error: { step: string; message: string } | null;
}

export interface SessionView {
  id: string;
  status: string;
  statusReason: string | null;
  counts: Record<'total' | 'pending' | 'waiting' | 'inProgress' | 'succeeded' | 'failed' | 'rolledBack' | 'staged' | 'superseded', number>;
}

export interface BootStateView {
  xname: string;
  bootState: { desired: { imageId: string | null } | null; staged: { imageId: string | null } | null; actual: { imageId: string | null; bootedAt: string } | null; workloadHold: boolean };
}

/** The cloud, the inventory and the simulated fleet, without an agent: its nodes boot from `agentUrl`. */
export interface SimulatedSite {
  cloud: TestCloud;
  fx: SiteFixture;
  fleet: SimulatedFleet;
  nodes: RollingNode[];
  imageA: string;
  imageB: string;
  kernelA: Blob;
  kernelB: Blob;
  /** Where the nodes boot from: the site agent's HTTP address (whichever agent listens there). */
  agentUrl: string;
  /** A scratch directory of the site's, removed by close(). */
  dir: string;
  /** GraphQL as the operator; throws on errors, naming them. */
  op<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
  putTemplate(name: string, imageId: string, kernelParameters: string): Promise<void>;
  createSession(input: Record<string, unknown>): Promise<SessionView>;
  session(id: string): Promise<SessionView>;
  sessionNodes(id: string): Promise<SessionNodeRecord[]>;
  /** Polls the session until `done` says so, or fails naming what it last saw. */
  waitForSession(id: string, what: string, done: (s: SessionView) => boolean, timeoutMs?: number): Promise<SessionView>;
  bootStates(): Promise<Map<string, BootStateView['bootState']>>;
  record(n: RollingNode): SimNodeRecord;
  /** Resets the BMC has received for the node's system so far (the simulator's list). */
  resets(n: RollingNode): string[];
  /** The agent's boot script for the node, asked for as the node asks: by MAC, from its own address. */
  bootScriptAsNode(n: RollingNode): Promise<{ token: string | null; kernelUrl: string | null; params: string }>;
  /**
   * `skyboot-agent discover` of every BMC into an agent data dir, with the BMC account as a
   * credentials file. The BMCs are named from the inventory: `snapshot` (the agent running on the
   * data dir has the inventory's endpoints in its snapshot) or `inventory-file` (the operator
   * exports the endpoints through the API and passes `--inventory`, for an agent not started yet).
   */
  discoverInto(dataDir: string, names: 'snapshot' | 'inventory-file'): Promise<{ stdout: string; stderr: string }>;
  /** Runs at close(), before the fleet and the cloud stop (an agent, a child process). */
  onClose(fn: () => Promise<void>): void;
  close(): Promise<void>;
}

/** The site's link to the cloud: the agent's GraphQL requests pass through it. */
export interface CloudLink {
  /**
   * The next request whose body names `operation` reaches the cloud and is answered there, but
   * the answer is lost on the way back (the connection drops). Resolves once that happened.
   */
  loseNextAnswer(operation: string): Promise<void>;
}

/** The simulated site with a real agent (startAgent) listening at agentUrl, its BMCs discovered. */
export interface RollingSite extends SimulatedSite {
  agent: RunningAgent;
  link: CloudLink;
}

/** An HTTP pass-through in front of the gateway's GraphQL endpoint that can lose answers. */
async function startCloudLink(gatewayUrl: string): Promise<CloudLink & { url: string; close(): Promise<void> }> {
  const losses: { operation: string; done: () => void }[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      try {
        const upstream = await fetch(`${gatewayUrl}${req.url}`, { method: req.method, headers: { 'content-type': String(req.headers['content-type'] ?? 'application/json'), authorization: String(req.headers.authorization ?? '') }, body: req.method === 'GET' ? undefined : body });
        const answer = Buffer.from(await upstream.arrayBuffer());
        const loss = losses.findIndex((l) => body.includes(l.operation));
        if (loss >= 0) {
          // The cloud has done the work; the agent never hears of it.
          const [l] = losses.splice(loss, 1);
          res.destroy();
          l!.done();
          return;
        }
        res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' }).end(answer);
      } catch {
        res.destroy();
      }
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    loseNextAnswer: (operation) => new Promise<void>((done) => losses.push({ operation, done })),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export async function until<T>(what: string, fn: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 30_000, describeLast?: () => Promise<string> | string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${describeLast ? `; last seen: ${await describeLast()}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const tokenOf = (params: string): string | null => params.split(' ').find((t) => t.startsWith(`${BOOT_TOKEN_PARAM}=`))?.slice(BOOT_TOKEN_PARAM.length + 1) ?? null;

/** One node out of service, by the simulator's clock: from its power-off to the heartbeat that ended it. */
export interface Interval {
  xname: string;
  from: number;
  to: number;
}

/** The node's first power-off at or after `since`, by the simulator's record (null: none). */
export function firstPowerOff(r: SimNodeRecord, since: number): number | null {
  return r.events.find((e) => e.kind === 'power.off' && e.at >= since)?.at ?? null;
}

/**
 * From the simulator's record: the node went out of service at its first power-off at or after
 * `since`, and came back with its first heartbeat after that carrying `token` (null: still out).
 */
export function outOfService(xname: string, r: SimNodeRecord, since: number, token: string): { interval: Interval | null; poweredOff: number | null } {
  const off = firstPowerOff(r, since);
  if (off === null) return { interval: null, poweredOff: null };
  const back = r.events.find((e) => e.kind === 'heartbeat' && e.at >= off && e.detail === token);
  return { interval: back ? { xname, from: off, to: back.at } : null, poweredOff: off };
}

/** The most intervals open at one instant (an interval ending at t does not overlap one starting at t). */
export function maxOverlap(intervals: { from: number; to: number }[]): number {
  const edges = intervals.flatMap((i) => [[i.from, 1], [i.to, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let max = 0;
  for (const [, d] of edges) max = Math.max(max, (open += d));
  return max;
}

const SESSION = 'id status statusReason counts { total pending waiting inProgress succeeded failed rolledBack staged superseded }';
const NODE = 'xname phase canary attempts startedAt endedAt previousImageId targetImageId claimedBy error { step message }';

export interface RollingSiteOptions {
  site: string;
  count: number;
  /** Simulated OS: from kernel fetch to the first heartbeat. */
  bootDelayMs?: number;
  /** The agent's `workload` key (default none), as its config file would hold it. */
  workload?: Record<string, unknown>;
  /** The gateway also serves the built web console at /console/. */
  console?: boolean;
}

export async function startSimulatedSite(opts: RollingSiteOptions & { agentPort: number }): Promise<SimulatedSite> {
  const dir = mkdtempSync(join(tmpdir(), 'skyboot-rolling-'));
  const agentUrl = `http://127.0.0.1:${opts.agentPort}`;
  const cloud = await startTestCloud({ console: opts.console ?? false });
  const gw = cloud.gw;
  let fleet: SimulatedFleet | null = null;
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const fn of closers.reverse()) await fn();
    await fleet?.close();
    await cloud.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const gql = async <T>(query: string, variables: Record<string, unknown> = {}, token: string = gw.tokens.operator): Promise<T> => {
      const r = await gw.gql<T>(query, variables, token);
      if (r.errors?.length || !r.data) throw new Error(`GraphQL ${query.slice(0, 60)}…: ${JSON.stringify(r.errors)}`);
      return r.data;
    };
    const admin = <T>(query: string, variables: Record<string, unknown> = {}) => gql<T>(query, variables, gw.tokens.admin);

    const fx = await siteFixture(gw, opts.site);
    const kernelB = blob(180 * 1024);
    const imageB = await fx.pushImage('compute-b', kernelB, blob(250 * 1024));

    // One node per BMC (dmtf: one system each); systems start powered on and boot from the agent's address.
    fleet = await startSimulatedFleet({ count: opts.count, vendors: ['dmtf'], seed: opts.site, powerTransitionMs: 50, os: { bootFrom: agentUrl, bootDelayMs: opts.bootDelayMs ?? 300, heartbeatIntervalMs: 20_000 } });
    const nodes: RollingNode[] = fleet.bmcs.map((b) => ({ xname: `x3000c0s${b.index}b0n0`, bmcXname: `x3000c0s${b.index}b0`, mac: b.nodes[0]!.mac, ip: b.nodes[0]!.ip, bmc: b.index, system: b.systems[0]! }));

    // The inventory, as the operator enters it: BMC endpoints, nodes with boot MAC and address, a group.
    await admin(`mutation($in: [RedfishEndpointInput!]!) { upsertRedfishEndpoints(input: $in) { xname } }`, {
      in: fleet.bmcs.map((b, i) => ({ xname: nodes[i]!.bmcXname, address: `${b.host}:${b.port}`, site: fx.site })),
    });
    const up = await admin<{ upsertComponents: { failed: number; errors: unknown[] } }>(`mutation($in: [ComponentInput!]!) { upsertComponents(input: $in) { failed errors { path message } } }`, {
      in: nodes.map((n, i) => ({ xname: n.xname, site: fx.site, role: 'COMPUTE', nid: 100 + i, arch: 'X86', interfaces: [{ mac: n.mac, ipAddresses: [n.ip], network: 'hsn' }] })),
    });
    if (up.upsertComponents.failed) throw new Error(`upsertComponents: ${JSON.stringify(up.upsertComponents.errors)}`);
    await admin(`mutation($l: String!) { createGroup(input: { label: $l }) { label } }`, { l: GROUP });
    await admin(`mutation($l: String!, $x: [XName!]!, $s: String) { addGroupMembers(label: $l, xnames: $x, site: $s) { name } }`, { l: GROUP, x: nodes.map((n) => n.xname), s: fx.site });

    const f = fleet;
    const discoverInto = async (dataDir: string, names: 'snapshot' | 'inventory-file') => {
      const creds = join(dir, 'bmc-credentials.yaml');
      writeFileSync(creds, `- match: "127.0.0.1"\n  username: ${f.username}\n  password: ${f.password}\n`);
      const extra: string[] = [];
      if (names === 'inventory-file') {
        const eps = await gql<{ redfishEndpoints: { edges: { node: { xname: string; address: string } }[] } }>(`query($f: RedfishEndpointFilter) { redfishEndpoints(filter: $f, first: 1000) { edges { node { xname address } } } }`, { f: { site: fx.site } });
        const file = join(dir, 'inventory-endpoints.json');
        writeFileSync(file, JSON.stringify(Object.fromEntries(eps.redfishEndpoints.edges.map((e) => [e.node.address, e.node.xname]))));
        extra.push('--inventory', file);
      }
      try {
        const cli = await execFileP(process.execPath, [join(repoRoot, 'bin', 'skyboot-agent.js'), 'discover', ...f.bmcs.flatMap((b) => ['--range', `http://${b.host}:${b.port}`]), '--credentials', creds, ...extra, '--data-dir', dataDir], {
          cwd: repoRoot, timeout: 120_000, env: { ...process.env, SKYBOOT_LOG_LEVEL: 'warn' },
        });
        if (!cli.stdout.includes(`${nodes.length} BMCs, ${nodes.length} nodes`)) throw new Error(`discover: ${cli.stdout}\n${cli.stderr}`);
        for (const n of nodes) if (!cli.stdout.includes(`nodes ${n.xname}`)) throw new Error(`discover did not name ${n.xname} from the inventory: ${cli.stdout}`);
        return cli;
      } finally {
        rmSync(creds, { force: true });
      }
    };
    const sessionNodes = async (id: string): Promise<SessionNodeRecord[]> => {
      const out: SessionNodeRecord[] = [];
      let after: string | null = null;
      for (;;) {
        const page: { bootSession: { nodes: { edges: { node: SessionNodeRecord }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } } = await gql(`query($id: ID!, $a: String) { bootSession(id: $id) { nodes(first: 100, after: $a) { edges { node { ${NODE} } } pageInfo { hasNextPage endCursor } } } }`, { id, a: after });
        out.push(...page.bootSession.nodes.edges.map((e) => e.node));
        if (!page.bootSession.nodes.pageInfo.hasNextPage) return out;
        after = page.bootSession.nodes.pageInfo.endCursor;
      }
    };
    const session = async (id: string) => (await gql<{ bootSession: SessionView }>(`query($id: ID!) { bootSession(id: $id) { ${SESSION} } }`, { id })).bootSession;
    return {
      cloud, fx, fleet, nodes, imageA: fx.imageId, imageB, kernelA: fx.kernel, kernelB, agentUrl, dir,
      op: gql,
      async putTemplate(name, imageId, kernelParameters) {
        await gql(`mutation($i: BootTemplateInput!) { putBootTemplate(input: $i) { version } }`, { i: { name, site: fx.site, bootSets: [{ name: 'compute', imageId, kernelParameters, groups: [GROUP] }] } });
      },
      async createSession(input) {
        return (await gql<{ createBootSession: SessionView }>(`mutation($i: BootSessionInput!) { createBootSession(input: $i) { ${SESSION} } }`, { i: { site: fx.site, ...input } })).createBootSession;
      },
      session,
      sessionNodes,
      async waitForSession(id, what, done, timeoutMs = 90_000) {
        let last: SessionView | null = null;
        return until(`session ${id} ${what}`, async () => {
          last = await session(id);
          return done(last) ? last : null;
        }, timeoutMs, async () => `${JSON.stringify(last)}; nodes ${JSON.stringify((await sessionNodes(id)).filter((n) => n.phase !== 'SUCCEEDED').slice(0, 6))}`);
      },
      async bootStates() {
        // Pages of 100: bootState resolves per node, and the gateway's cost limit counts it.
        const out = new Map<string, BootStateView['bootState']>();
        let after: string | null = null;
        for (;;) {
          const r: { components: { edges: { node: BootStateView }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await gql(`query($f: ComponentFilter, $a: String) { components(filter: $f, first: 100, after: $a) { edges { node { xname bootState { desired { imageId } staged { imageId } actual { imageId bootedAt } workloadHold } } } pageInfo { hasNextPage endCursor } } }`, { f: { site: fx.site, group: GROUP }, a: after });
          for (const e of r.components.edges) out.set(e.node.xname, e.node.bootState);
          if (!r.components.pageInfo.hasNextPage) return out;
          after = r.components.pageInfo.endCursor;
        }
      },
      record: (n) => f.nodeRecords()[n.bmc]!,
      resets: (n) => [...f.system(n.bmc, n.system).resetsReceived],
      async bootScriptAsNode(n) {
        const res = await httpFrom(n.ip, `${agentUrl}/boot/v1/bootscript?mac=${n.mac}`, { timeoutMs: 10_000 });
        if (res.status !== 200) throw new Error(`boot script for ${n.xname} from ${n.ip}: HTTP ${res.status} ${res.text().slice(0, 200)}`);
        const s = parseBootScript(res.text());
        return { token: tokenOf(s.params), kernelUrl: s.kernelUrl, params: s.params };
      },
      discoverInto,
      onClose: (fn) => closers.push(fn),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export async function startRollingSite(opts: RollingSiteOptions): Promise<RollingSite> {
  const port = await freeTcpPort();
  const site = await startSimulatedSite({ ...opts, agentPort: port });
  try {
    // The agent as a site runs it: the site's own client credentials, its own data dir, its link to the cloud.
    const dataDir = join(site.dir, 'agent');
    writeFileSync(join(site.dir, 'client-secret'), site.fx.agentClient.clientSecret);
    const link = await startCloudLink(site.cloud.gw.url);
    site.onClose(() => link.close());
    const agent = await startAgent(resolveConfig({
      cloud: link.url, tokenEndpoint: site.fx.agentClient.tokenEndpoint, clientId: site.fx.agentClient.clientId, clientSecretFile: join(site.dir, 'client-secret'),
      dataDir, http: `127.0.0.1:${port}`, syncInterval: '1', ...(opts.workload ? { workload: opts.workload } : {}),
    }));
    site.onClose(() => agent.stop());
    // discover names BMCs from the inventory's endpoints, as the agent's snapshot carries them.
    await until('the agent snapshot to carry every node and Redfish endpoint', () => {
      const s = agent.syncer.index?.stored.snapshot;
      return !!s && site.nodes.every((n) => agent.syncer.index!.byXname.get(n.xname)?.boot) && (s.redfishEndpoints ?? []).length === site.nodes.length;
    }, 60_000);
    await site.discoverInto(dataDir, 'snapshot');
    return { ...site, agent, link };
  } catch (err) {
    await site.close();
    throw err;
  }
}
