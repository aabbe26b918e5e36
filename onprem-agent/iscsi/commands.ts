/**
 * CLI: `export list`, `export reconcile`, plus `export boot-params` and `export srv-zone` for
 * operators wiring a boot script or a DNS zone by hand. Machine output with --json on stdout.
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { BadUserInputError, SkybootError } from '../../schema/errors.js';
import { ArtifactCache } from '../cache/artifactCache.js';
import { DATA_DIR_HELP, ISCSI_MODES, loadAgentConfig, type AgentConfig } from '../config.js';
import { knownValues } from '../../schema/cli/commandTree.js';
import { loadSnapshot } from '../sync/snapshotStore.js';
import { iscsiKernelParameters, iscsiPathsFor, srvZoneSnippet } from './boot-params.js';
import { loadOrCreateChapSecrets, type ChapSecrets } from './chap.js';
import { buildIscsiDesiredState, type ChapPolicy, type DesiredImageInput, type DesiredStateInput, type NodeBootInput } from './desired.js';
import { initiatorIqnFor, parsePortal } from './naming.js';
import { DEFAULT_GRACE_PERIOD_MS, reconcileExports } from './reconcile.js';
import { makeBackend, snapshotInput } from './service.js';
import { withDataDirLock } from '../run/dataDirLock.js';

/** The agent-config flags the export commands share with `run`; the config file and env fill in the rest. */
function configFlags(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'agent config file')
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .option('--iscsi <backend>', 'tgt | lio | off (default: the agent config, else off)', knownValues(ISCSI_MODES))
    .option('--tgt-control-port <n>', "tgtd's management port (tgtd -C N)")
    .option('--iscsi-portal <addr:port>', 'a portal this agent advertises (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--configfs <dir>', 'LIO configfs root (default /sys/kernel/config/target)');
}

interface ConfigFlags {
  config?: string;
  dataDir?: string;
  iscsi?: string;
  tgtControlPort?: string;
  iscsiPortal?: string[];
  configfs?: string;
}

function agentConfig(o: ConfigFlags): AgentConfig {
  const cfg = loadAgentConfig({ config: o.config, dataDir: o.dataDir, iscsi: o.iscsi, tgtControlPort: o.tgtControlPort, iscsiPortal: o.iscsiPortal });
  for (const p of cfg.iscsi.portals) parsePortal(p, 'iscsiPortal');
  const port = cfg.iscsi.tgtControlPort;
  if (port !== null && (port < 1 || port > 32767)) throw new BadUserInputError('tgtControlPort', `${port} is not 1-32767 (tgtd's limit)`);
  return cfg;
}

function intIn(v: string, field: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new BadUserInputError(field, `"${v}" is not an integer ${min}-${max}`);
  return n;
}

const OFF = new BadUserInputError('iscsi', 'iSCSI is off: pass --iscsi tgt|lio or set "iscsi" in the agent config');

/** The `--desired` file: the plain inputs buildIscsiDesiredState takes, with cached paths as a map. */
export interface DesiredFile {
  agentName: string;
  siteDomain: string;
  images: DesiredImageInput[];
  nodes: NodeBootInput[];
  cachedPaths: Record<string, string>;
  chap?: 'off' | 'one-way' | 'mutual';
}

async function readDesiredFile(path: string): Promise<DesiredFile> {
  let parsed: DesiredFile;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8')) as DesiredFile;
  } catch (err) {
    throw new BadUserInputError('desired', `cannot read ${path}: ${(err as Error).message}`);
  }
  for (const key of ['agentName', 'siteDomain', 'images', 'nodes', 'cachedPaths'] as const) {
    if (parsed[key] === undefined) throw new BadUserInputError(`desired.${key}`, `missing in ${path}`);
  }
  return parsed;
}

async function guarded(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exitCode = err instanceof SkybootError && err.code === 'BAD_USER_INPUT' ? 2 : 1;
  }
}

/** `agent-a=10.0.0.5:3260` → { agentName, portal }. */
function agentPortal(v: string, prev: Array<{ agentName: string; portal: string }>): Array<{ agentName: string; portal: string }> {
  const [agentName, portal] = v.split('=');
  if (!agentName || !portal) throw new BadUserInputError('portal', `"${v}" is not AGENT=ADDR:PORT`);
  parsePortal(portal, 'portal');
  return [...prev, { agentName, portal }];
}

function chapMode(v: string | undefined, field: string): ChapPolicy['mode'] | null {
  if (v === undefined || v === 'off') return null;
  if (v !== 'one-way' && v !== 'mutual') throw new BadUserInputError(field, `"${v}" is not one of off, one-way, mutual`);
  return v;
}

async function inputFromFile(path: string, dataDir: string): Promise<{ input: DesiredStateInput; chap: ChapSecrets | null }> {
  const file = await readDesiredFile(path);
  const mode = chapMode(file.chap, 'desired.chap');
  const chap = mode ? await loadOrCreateChapSecrets(dataDir, mode, file.siteDomain.split('.')[0]) : null;
  return { input: { ...file, cachedPath: (sha) => file.cachedPaths[sha], chap: chap?.policy ?? null }, chap };
}

async function inputFromSnapshot(dataDir: string, agentName: string | undefined, chapFlag: string | undefined): Promise<{ input: DesiredStateInput; chap: ChapSecrets | null }> {
  const stored = await loadSnapshot(dataDir);
  if (!stored) throw new BadUserInputError('desired', `no snapshot in ${dataDir} yet: run the agent with --cloud first, or pass --desired FILE`);
  return snapshotInput(dataDir, stored.snapshot, {
    agentName: agentName ?? hostname().split('.')[0]!.toLowerCase(),
    cache: new ArtifactCache(join(dataDir, 'cache')),
    chapMode: chapMode(chapFlag, 'chap'),
  });
}

export function registerIscsiCommands(program: Command): void {
  const exp = program.command('export').description('iSCSI export of root images: show and apply the plan');

  configFlags(exp.command('list').description('exports on the backend, with ACLs and logged-in initiators'))
    .option('--json', 'machine output')
    .action((o: ConfigFlags & { json?: boolean }) => guarded(async () => {
      const backend = makeBackend(agentConfig(o).iscsi, null, o.configfs);
      if (!backend) throw OFF;
      const exports = await backend.listExports();
      if (o.json) {
        process.stdout.write(`${JSON.stringify(exports, null, 2)}\n`);
        return;
      }
      for (const e of exports) {
        process.stdout.write(`${e.targetIqn}\n  lun ${e.lun ? `${e.lun.lun} ${e.lun.readonly ? 'ro' : 'RW'} ${e.lun.backingPath} serial ${e.lun.serial}` : 'missing'}\n`
          + `  acl ${e.acl.join(', ') || '-'}\n  sessions ${e.sessions.join(', ') || '-'}\n  chap ${[...e.chapUsers, ...e.chapMutualUsers.map((u) => `${u} (mutual)`)].join(', ') || 'off'}\n`);
      }
      if (exports.length === 0) process.stdout.write('no exports\n');
    }));

  configFlags(exp.command('reconcile').description("plan and apply exports for the stored snapshot (or --desired FILE)"))
    .option('--desired <file>', 'desired-state JSON instead of the snapshot (agentName, siteDomain, images, nodes, cachedPaths, chap)')
    .option('--agent-name <name>', "this agent's name in target IQNs (default: the short host name)")
    .option('--chap <mode>', 'off | one-way | mutual, with the snapshot (default: the iscsiChap setting, off)')
    .option('--grace-period <seconds>', 'keep an unreferenced image exported this long', (v) => intIn(v, 'gracePeriod', 0, 365 * 86400) * 1000, DEFAULT_GRACE_PERIOD_MS)
    .option('--dry-run', 'print the plan, change nothing')
    .option('--json', 'machine output')
    .action((o: ConfigFlags & { desired?: string; agentName?: string; chap?: string; gracePeriod: number; dryRun?: boolean; json?: boolean }) => guarded(async () => {
      const cfg = agentConfig(o);
      const { input, chap } = o.desired ? await inputFromFile(o.desired, cfg.dataDir) : await inputFromSnapshot(cfg.dataDir, o.agentName, o.chap ?? cfg.iscsi.chap);
      const backend = makeBackend(cfg.iscsi, chap, o.configfs);
      if (!backend) throw OFF;
      const desired = buildIscsiDesiredState(input);
      // Applying is the running agent's job while one runs: the lock refuses a second reconciler of one tgtd.
      const reconcile = () => reconcileExports({ backend, desired, dataDir: cfg.dataDir, chap, gracePeriodMs: o.gracePeriod, dryRun: o.dryRun ?? false });
      const { plan, applied } = o.dryRun ? await reconcile() : await withDataDirLock(cfg.dataDir, 'skyboot-agent export reconcile', reconcile);
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ dryRun: o.dryRun ?? false, applied, ...plan, skipped: desired.skipped }, null, 2)}\n`);
        return;
      }
      for (const s of plan.steps) process.stdout.write(`${o.dryRun ? 'would ' : ''}${s.op} ${s.targetIqn}${'initiatorIqn' in s ? ` ${s.initiatorIqn}` : ''}\n`);
      for (const d of plan.deferred) process.stdout.write(`deferred ${d.what} ${d.targetIqn}${d.initiatorIqn ? ` ${d.initiatorIqn}` : ''}: ${d.reason}\n`);
      for (const s of desired.skipped) process.stdout.write(`skipped ${s.imageId}: ${s.reason}\n`);
      if (plan.steps.length === 0) process.stdout.write('in sync\n');
    }));

  exp.command('boot-params').description("dracut kernel parameters for a node's iSCSI root")
    .requiredOption('--site-domain <domain>', 'site DNS domain')
    .requiredOption('--xname <xname>', 'the node')
    .requiredOption('--rootfs-sha256 <sha>', "the image's rootfs digest")
    .requiredOption('--portal <agent=addr:port>', 'an agent portal (repeatable)', agentPortal, [])
    .action((o: { siteDomain: string; xname: string; rootfsSha256: string; portal: Array<{ agentName: string; portal: string }> }) => guarded(async () => {
      const agents = [...new Set(o.portal.map((p) => p.agentName))].map((agentName) => ({ agentName, portals: o.portal.filter((p) => p.agentName === agentName).map((p) => p.portal) }));
      const params = iscsiKernelParameters({ initiatorIqn: initiatorIqnFor(o.xname), paths: iscsiPathsFor(o.siteDomain, agents, o.rootfsSha256), rootfsSha256: o.rootfsSha256 });
      process.stdout.write(`${params.join(' ')}\n`);
    }));

  exp.command('srv-zone').description('DNS SRV records for the site portals (_skyboot-iscsi._tcp)')
    .requiredOption('--site-domain <domain>', 'site DNS domain')
    .requiredOption('--portal <agent=addr:port>', 'an agent portal (repeatable)', agentPortal, [])
    .option('--ttl <seconds>', 'record TTL', (v) => intIn(v, 'ttl', 1, 86400), 300)
    .action((o: { siteDomain: string; portal: Array<{ agentName: string; portal: string }>; ttl: number }) => guarded(async () => {
      process.stdout.write(srvZoneSnippet(o.siteDomain, o.portal, o.ttl));
    }));
}
