/**
 * CLI: `export list`, `export reconcile`, plus `export boot-params` and `export srv-zone` for
 * operators wiring a boot script or a DNS zone by hand. Machine output with --json on stdout.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { BadUserInputError, SkybootError } from '../../schema/errors.js';
import { resolveDataDir } from '../redfish/report-store.js';
import type { IscsiBackend } from './backend.js';
import { iscsiKernelParameters, iscsiPathsFor, srvZoneSnippet } from './boot-params.js';
import { loadOrCreateChapSecrets, type ChapSecrets } from './chap.js';
import { buildIscsiDesiredState, type DesiredImageInput, type NodeBootInput } from './desired.js';
import { LioBackend } from './lio-backend.js';
import { initiatorIqnFor, parsePortal } from './naming.js';
import { DEFAULT_GRACE_PERIOD_MS, reconcileExports } from './reconcile.js';
import { TgtBackend } from './tgt-backend.js';

export type IscsiMode = 'tgt' | 'lio' | 'off';

export interface IscsiFlags {
  iscsi: IscsiMode;
  tgtControlPort?: number;
  iscsiPortal: string[];
  configfs?: string;
}

/** The options `run` and `export` share; exported so `run` adds the same flags. */
export function addIscsiOptions(cmd: Command): Command {
  return cmd
    .option('--iscsi <backend>', 'iSCSI backend: tgt, lio or off', parseMode, 'tgt')
    .option('--tgt-control-port <n>', "tgtd's management port (tgtd -C N)", (v) => intIn(v, 'tgtControlPort', 1, 32767))
    .option('--iscsi-portal <addr:port>', 'a portal this agent advertises (repeatable)', collectPortal, [] as string[])
    .option('--configfs <dir>', 'LIO configfs root (default /sys/kernel/config/target)');
}

function collectPortal(v: string, prev: string[]): string[] {
  parsePortal(v, 'iscsiPortal');
  return [...prev, v];
}

function parseMode(v: string): IscsiMode {
  if (v !== 'tgt' && v !== 'lio' && v !== 'off') throw new BadUserInputError('iscsi', `"${v}" is not one of tgt, lio, off`);
  return v;
}

function intIn(v: string, field: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new BadUserInputError(field, `"${v}" is not an integer ${min}-${max}`);
  return n;
}

export function makeBackend(flags: IscsiFlags, chap: ChapSecrets | null): IscsiBackend | null {
  if (flags.iscsi === 'off') return null;
  if (flags.iscsi === 'tgt') return new TgtBackend(flags.tgtControlPort === undefined ? {} : { controlPort: flags.tgtControlPort });
  return new LioBackend({ portals: flags.iscsiPortal, chap, ...(flags.configfs ? { configfsRoot: flags.configfs } : {}) });
}

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

export function registerIscsiCommands(program: Command): void {
  const exp = program.command('export').description('iSCSI export of root images: show and apply the plan');

  addIscsiOptions(exp.command('list').description('exports on the backend, with ACLs and logged-in initiators'))
    .option('--json', 'machine output')
    .action((o: IscsiFlags & { json?: boolean }) => guarded(async () => {
      const backend = makeBackend(o, null);
      if (!backend) throw new BadUserInputError('iscsi', 'iSCSI is off');
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

  addIscsiOptions(exp.command('reconcile').description('plan and apply exports for the desired state'))
    .requiredOption('--desired <file>', 'desired-state JSON (agentName, siteDomain, images, nodes, cachedPaths, chap)')
    .option('--data-dir <dir>', 'agent data dir (grace-period timestamps, CHAP secrets)')
    .option('--grace-period <seconds>', 'keep an unreferenced image exported this long', (v) => intIn(v, 'gracePeriod', 0, 365 * 86400) * 1000, DEFAULT_GRACE_PERIOD_MS)
    .option('--dry-run', 'print the plan, change nothing')
    .option('--json', 'machine output')
    .action((o: IscsiFlags & { desired: string; dataDir?: string; gracePeriod: number; dryRun?: boolean; json?: boolean }) => guarded(async () => {
      const file = await readDesiredFile(o.desired);
      const dataDir = resolveDataDir(o.dataDir);
      const chap = file.chap && file.chap !== 'off' ? await loadOrCreateChapSecrets(dataDir, file.chap, file.siteDomain.split('.')[0]) : null;
      const backend = makeBackend(o, chap);
      if (!backend) {
        process.stderr.write('iSCSI is off: nothing to reconcile\n');
        return;
      }
      const desired = buildIscsiDesiredState({ ...file, cachedPath: (sha) => file.cachedPaths[sha], chap: chap?.policy ?? null });
      const { plan, applied } = await reconcileExports({ backend, desired, dataDir, chap, gracePeriodMs: o.gracePeriod, dryRun: o.dryRun ?? false });
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
