/**
 * The tgt backend: drives a running tgtd through tgtadm. tgtd keeps no configuration of its own
 * across restarts here; reconcile rebuilds it from the desired state, which is the source of truth.
 */
import { execFile } from 'node:child_process';
import { SkybootError } from '../../schema/errors.js';
import { log } from '../logger.js';
import type { ActualExport, ExportSpec, IscsiBackend } from './backend.js';
import type { ChapAccount, TargetChapAccounts } from './chap.js';
import { lunIdentity } from './naming.js';
import { parseTgtAccounts, parseTgtShow, type TgtTarget } from './tgt-show.js';

export interface TgtOptions {
  /** tgtd's management port (`tgtd -C N`); undefined talks to the default instance. */
  controlPort?: number;
  tgtadmPath?: string;
  timeoutMs?: number;
}

/** A tgtadm argument that must not reach a log or an error message. */
interface Hidden {
  hidden: string;
}
type Arg = string | Hidden;

export class TgtBackend implements IscsiBackend {
  readonly kind = 'tgt' as const;
  readonly #opts: Required<Omit<TgtOptions, 'controlPort'>> & { controlPort: number | undefined };
  /** targetIqn → tid, so binding a thousand initiators does not parse `show` a thousand times. */
  readonly #tids = new Map<string, number>();

  constructor(opts: TgtOptions = {}) {
    this.#opts = { controlPort: opts.controlPort, tgtadmPath: opts.tgtadmPath ?? 'tgtadm', timeoutMs: opts.timeoutMs ?? 15_000 };
  }

  identityOf(rootfsSha256: string): { scsiId: string; serial: string } {
    const { scsiId, serial } = lunIdentity(rootfsSha256);
    return { scsiId, serial };
  }

  async listExports(): Promise<ActualExport[]> {
    return (await this.targets()).map(toActual);
  }

  async ensureExport(spec: ExportSpec): Promise<void> {
    const id = lunIdentity(spec.rootfsSha256);
    const targets = await this.targets();
    let target = targets.find((t) => t.name === spec.targetIqn);
    if (!target) {
      const tid = freeTid(id.tid, targets);
      await this.tgtadm('target', 'new', ['--tid', String(tid), '--targetname', spec.targetIqn]);
      target = { tid, name: spec.targetIqn, nexusInitiators: [], luns: [], accounts: [], outgoingAccounts: [], acl: [] };
      this.#tids.set(spec.targetIqn, tid);
      log.info({ targetIqn: spec.targetIqn, tid }, 'iscsi target created');
    }
    const lun = target.luns.find((l) => l.lun === spec.lun);
    // The LUN is created before any initiator is bound, and tgt refuses logins to a target with
    // an empty ACL, so nobody can write in the moment before readonly=1 lands.
    if (!lun) {
      await this.tgtadm('logicalunit', 'new', ['--tid', String(target.tid), '--lun', String(spec.lun), '--backing-store', spec.rootfsPath]);
    }
    if (!lun || !lun.readonly || lun.scsiId !== id.scsiId || lun.scsiSn !== id.serial) {
      await this.tgtadm('logicalunit', 'update', ['--tid', String(target.tid), '--lun', String(spec.lun),
        '--params', `readonly=1,scsi_id=${id.scsiId},scsi_sn=${id.serial}`]);
      log.info({ targetIqn: spec.targetIqn, lun: spec.lun, scsiId: id.scsiId }, 'iscsi LUN exported read-only');
    }
  }

  async bindInitiator(targetIqn: string, initiatorIqn: string): Promise<void> {
    await this.tgtadm('target', 'bind', ['--tid', String(await this.tidOf(targetIqn)), '--initiator-name', initiatorIqn]);
  }

  async unbindInitiator(targetIqn: string, initiatorIqn: string): Promise<void> {
    await this.tgtadm('target', 'unbind', ['--tid', String(await this.tidOf(targetIqn)), '--initiator-name', initiatorIqn]);
  }

  async setChap(targetIqn: string, accounts: TargetChapAccounts | null): Promise<void> {
    const target = await this.target(targetIqn);
    const tid = String(target.tid);
    const wantIn = (accounts?.incoming ?? []).map((a) => a.user);
    const wantOut = accounts?.outgoing ? [accounts.outgoing.user] : [];
    const existing = new Set(parseTgtAccounts(await this.tgtadm('account', 'show', [])));
    // tgt accounts are global to tgtd: one per node (and one for the target), bound to each target that admits it.
    const ensure = async (a: ChapAccount): Promise<void> => {
      if (existing.has(a.user)) return;
      await this.tgtadm('account', 'new', ['--user', a.user, '--password', { hidden: a.secret.reveal() }]);
      existing.add(a.user);
    };
    for (const a of accounts?.incoming ?? []) await ensure(a);
    if (accounts?.outgoing) await ensure(accounts.outgoing);
    for (const u of target.accounts.filter((a) => !wantIn.includes(a))) await this.tgtadm('account', 'unbind', ['--tid', tid, '--user', u]);
    for (const u of target.outgoingAccounts.filter((a) => !wantOut.includes(a))) await this.tgtadm('account', 'unbind', ['--tid', tid, '--user', u, '--outgoing']);
    for (const u of wantIn.filter((a) => !target.accounts.includes(a))) await this.tgtadm('account', 'bind', ['--tid', tid, '--user', u]);
    for (const u of wantOut.filter((a) => !target.outgoingAccounts.includes(a))) await this.tgtadm('account', 'bind', ['--tid', tid, '--user', u, '--outgoing']);
  }

  async removeExport(targetIqn: string): Promise<void> {
    // No --force: tgtd itself refuses while an I_T nexus exists, a second guard behind the planner's.
    await this.tgtadm('target', 'delete', ['--tid', String(await this.tidOf(targetIqn))]);
    this.#tids.delete(targetIqn);
    log.info({ targetIqn }, 'iscsi target removed');
  }

  private async targets(): Promise<TgtTarget[]> {
    const targets = parseTgtShow(await this.tgtadm('target', 'show', []));
    this.#tids.clear();
    for (const t of targets) this.#tids.set(t.name, t.tid);
    return targets;
  }

  private async target(targetIqn: string): Promise<TgtTarget> {
    const t = (await this.targets()).find((x) => x.name === targetIqn);
    if (!t) throw new SkybootError('NOT_FOUND', `tgt target ${targetIqn} not found`, 'targetIqn');
    return t;
  }

  private async tidOf(targetIqn: string): Promise<number> {
    return this.#tids.get(targetIqn) ?? (await this.target(targetIqn)).tid;
  }

  private tgtadm(mode: string, op: string, rest: Arg[]): Promise<string> {
    const port = this.#opts.controlPort;
    const args: Arg[] = [...(port === undefined ? [] : ['-C', String(port)]), '--lld', 'iscsi', '--mode', mode, '--op', op, ...rest];
    const argv = args.map((a) => (typeof a === 'string' ? a : a.hidden));
    const shown = args.map((a) => (typeof a === 'string' ? a : '[redacted]')).join(' ');
    return new Promise((resolve, reject) => {
      execFile(this.#opts.tgtadmPath, argv, { timeout: this.#opts.timeoutMs }, (err, stdout, stderr) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException).code;
          // Never err.message: it repeats the argv, secrets included.
          let why = code === 'ENOENT' ? `${this.#opts.tgtadmPath} not found on PATH (install tgt)` : stderr.trim() || `exit status ${String(code)}`;
          // tgtd answers its management socket only for uid 0 (it checks the peer's credentials).
          if (code !== 'ENOENT' && process.getuid?.() !== 0) why += `; tgtd accepts tgtadm only from root and this agent runs as uid ${process.getuid?.()} (docs/iscsi.md, "What a site host needs")`;
          reject(new SkybootError('INTERNAL_SERVER_ERROR', `tgtadm ${shown} failed: ${why}`));
          return;
        }
        resolve(stdout);
      });
    });
  }
}

/** The digest-derived tid, or the next free one when another target holds it (identity then differs in NAA-local only). */
function freeTid(preferred: number, targets: TgtTarget[]): number {
  const used = new Set(targets.map((t) => t.tid));
  let tid = preferred;
  while (used.has(tid)) tid = tid >= 0x7fffffff ? 1 : tid + 1;
  return tid;
}

function toActual(t: TgtTarget): ActualExport {
  const lun = t.luns.find((l) => l.type === 'disk');
  return {
    targetIqn: t.name,
    lun: lun ? { lun: lun.lun, backingPath: lun.backingStorePath, readonly: lun.readonly, scsiId: lun.scsiId, serial: lun.scsiSn } : null,
    acl: t.acl,
    sessions: [...new Set(t.nexusInitiators)],
    chapUsers: t.accounts,
    chapMutualUsers: t.outgoingAccounts,
  };
}
