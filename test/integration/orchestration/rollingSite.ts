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
 * What the tests read back is the simulator's own record (power actions, boots, the script each
 * boot was served, heartbeats) and the cloud's answers; `outOfService` and `maxOverlap` turn both
 * into intervals.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

export interface RollingSite {
  cloud: TestCloud;
  fx: SiteFixture;
  agent: RunningAgent;
  fleet: SimulatedFleet;
  nodes: RollingNode[];
  imageA: string;
  imageB: string;
  kernelA: Blob;
  kernelB: Blob;
  /** GraphQL as the operator (or the admin for inventory writes); throws on errors, naming them. */
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
  close(): Promise<void>;
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
const NODE = 'xname phase canary attempts startedAt endedAt previousImageId targetImageId error { step message }';

export interface RollingSiteOptions {
  site: string;
  count: number;
  /** Simulated OS: from kernel fetch to the first heartbeat. */
  bootDelayMs?: number;
}

export async function startRollingSite(opts: RollingSiteOptions): Promise<RollingSite> {
  const dir = mkdtempSync(join(tmpdir(), 'skyboot-rolling-'));
  const dataDir = join(dir, 'agent');
  const cloud = await startTestCloud();
  const gw = cloud.gw;
  let agent: RunningAgent | null = null;
  let fleet: SimulatedFleet | null = null;
  const close = async () => {
    await agent?.stop();
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

    // The agent as a site runs it: the site's own client credentials, its own data dir.
    writeFileSync(join(dir, 'client-secret'), fx.agentClient.clientSecret);
    agent = await startAgent(resolveConfig({
      cloud: gw.url, tokenEndpoint: fx.agentClient.tokenEndpoint, clientId: fx.agentClient.clientId, clientSecretFile: join(dir, 'client-secret'),
      dataDir, http: '127.0.0.1:0', syncInterval: '1',
    }));
    // One node per BMC (dmtf: one system each); systems start powered on and boot from the agent.
    fleet = await startSimulatedFleet({ count: opts.count, vendors: ['dmtf'], seed: opts.site, powerTransitionMs: 50, os: { bootFrom: agent.httpUrl, bootDelayMs: opts.bootDelayMs ?? 300, heartbeatIntervalMs: 20_000 } });
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

    // discover names BMCs from the inventory's endpoints, as the agent's snapshot carries them.
    const a = agent;
    await until('the agent snapshot to carry every node and Redfish endpoint', () => {
      const s = a.syncer.index?.stored.snapshot;
      return !!s && nodes.every((n) => a.syncer.index!.byXname.get(n.xname)?.boot) && (s.redfishEndpoints ?? []).length === nodes.length;
    }, 60_000);
    const creds = join(dir, 'bmc-credentials.yaml');
    writeFileSync(creds, `- match: "127.0.0.1"\n  username: ${fleet.username}\n  password: ${fleet.password}\n`);
    const cli = await execFileP(process.execPath, [join(repoRoot, 'bin', 'skyboot-agent.js'), 'discover', ...fleet.bmcs.flatMap((b) => ['--range', `http://${b.host}:${b.port}`]), '--credentials', creds, '--data-dir', dataDir], {
      cwd: repoRoot, timeout: 120_000, env: { ...process.env, SKYBOOT_LOG_LEVEL: 'warn' },
    });
    rmSync(creds);
    if (!cli.stdout.includes(`${nodes.length} BMCs, ${nodes.length} nodes`)) throw new Error(`discover: ${cli.stdout}\n${cli.stderr}`);
    for (const n of nodes) if (!cli.stdout.includes(`nodes ${n.xname}`)) throw new Error(`discover did not name ${n.xname} from the inventory: ${cli.stdout}`);

    const f = fleet;
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
      cloud, fx, agent, fleet, nodes, imageA: fx.imageId, imageB, kernelA: fx.kernel, kernelB,
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
        const res = await httpFrom(n.ip, `${a.httpUrl}/boot/v1/bootscript?mac=${n.mac}`, { timeoutMs: 10_000 });
        if (res.status !== 200) throw new Error(`boot script for ${n.xname} from ${n.ip}: HTTP ${res.status} ${res.text().slice(0, 200)}`);
        const s = parseBootScript(res.text());
        return { token: tokenOf(s.params), kernelUrl: s.kernelUrl, params: s.params };
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
