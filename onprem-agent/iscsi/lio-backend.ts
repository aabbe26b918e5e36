/**
 * The LIO backend: reads the kernel target's state from configfs and changes it through
 * targetcli, fed on stdin so CHAP secrets never appear in a process's argv.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SkybootError } from '../../schema/errors.js';
import type { ActualExport, ExportSpec, IscsiBackend } from './backend.js';
import type { ChapSecrets, TargetChapAccounts } from './chap.js';
import {
  LIO_SAVE, lioBindCommands, lioCreateExportCommands, lioRemoveExportCommands, lioSetChapCommands, lioUnbindCommands,
} from './lio-commands.js';
import { IMAGE_LUN, lioUnitSerial } from './naming.js';

export interface LioOptions {
  /** The portals this agent advertises; each new target listens on exactly these. */
  portals: string[];
  /** The site's CHAP, applied to every node ACL LIO creates (LIO keeps CHAP per ACL). */
  chap: ChapSecrets | null;
  configfsRoot?: string;
  /** Runs one targetcli batch; replaced in tests, where LIO cannot run. */
  runTargetcli?: (commands: string[]) => Promise<void>;
}

export class LioBackend implements IscsiBackend {
  readonly kind = 'lio' as const;
  readonly #opts: LioOptions;
  readonly #root: string;
  readonly #run: (commands: string[]) => Promise<void>;

  constructor(opts: LioOptions) {
    this.#opts = opts;
    this.#root = opts.configfsRoot ?? '/sys/kernel/config/target';
    this.#run = opts.runTargetcli ?? runTargetcli;
  }

  identityOf(rootfsSha256: string): { scsiId: string; serial: string } {
    const serial = lioUnitSerial(rootfsSha256);
    return { scsiId: serial, serial };
  }

  async listExports(): Promise<ActualExport[]> {
    const iscsiDir = join(this.#root, 'iscsi');
    const names = (await readdirOrEmpty(iscsiDir)).filter((n) => n.startsWith('iqn.'));
    return Promise.all(names.map((n) => this.readTarget(n, join(iscsiDir, n, 'tpgt_1'))));
  }

  async ensureExport(spec: ExportSpec): Promise<void> {
    const existing = (await this.listExports()).find((e) => e.targetIqn === spec.targetIqn);
    // LIO has no partial-update path worth the complexity: a half-made target is rebuilt whole,
    // but never under a node that is using it.
    if (existing && existing.sessions.length > 0) {
      throw new SkybootError('CONFLICT', `LIO target ${spec.targetIqn} needs rebuilding but has sessions: ${existing.sessions.join(', ')}`);
    }
    const cmds = existing ? [...lioRemoveExportCommands(spec.targetIqn), ...lioCreateExportCommands(spec, this.#opts.portals)]
      : lioCreateExportCommands(spec, this.#opts.portals);
    await this.#run([...cmds, LIO_SAVE]);
  }

  async bindInitiator(targetIqn: string, initiatorIqn: string): Promise<void> {
    await this.#run([...lioBindCommands(targetIqn, initiatorIqn, IMAGE_LUN, this.#opts.chap), LIO_SAVE]);
  }

  async unbindInitiator(targetIqn: string, initiatorIqn: string): Promise<void> {
    await this.#run([...lioUnbindCommands(targetIqn, initiatorIqn), LIO_SAVE]);
  }

  async setChap(targetIqn: string, accounts: TargetChapAccounts | null): Promise<void> {
    // ACLs bound later get their CHAP from bindInitiator; only the existing ones need it here.
    // LIO keeps one account per ACL, so each ACL takes its node's account from the site key.
    const acl = (await this.listExports()).find((e) => e.targetIqn === targetIqn)?.acl ?? [];
    await this.#run([...lioSetChapCommands(targetIqn, acl, accounts ? this.#opts.chap : null), LIO_SAVE]);
  }

  async removeExport(targetIqn: string): Promise<void> {
    const target = (await this.listExports()).find((e) => e.targetIqn === targetIqn);
    // LIO, unlike tgtd, would tear a live session down; refuse here as well as in the planner.
    if (target && target.sessions.length > 0) throw new SkybootError('CONFLICT', `LIO target ${targetIqn} has sessions: ${target.sessions.join(', ')}`);
    await this.#run([...lioRemoveExportCommands(targetIqn), LIO_SAVE]);
  }

  private async readTarget(targetIqn: string, tpgDir: string): Promise<ActualExport> {
    const lunDir = join(tpgDir, 'lun', `lun_${IMAGE_LUN}`);
    let lun: ActualExport['lun'] = null;
    const link = (await readdirOrEmpty(lunDir, true)).find((e) => e.isSymbolicLink());
    if (link) {
      const bsDir = resolve(lunDir, await readlink(join(lunDir, link.name)));
      const serial = (await readText(join(bsDir, 'wwn', 'vpd_unit_serial'))).replace(/^T10 VPD Unit Serial Number:\s*/, '');
      lun = { lun: IMAGE_LUN, backingPath: await readText(join(bsDir, 'udev_path')), readonly: true, scsiId: serial, serial };
    }
    const acl: string[] = [];
    const sessions: string[] = [];
    const chapUsers = new Set<string>();
    const chapMutualUsers = new Set<string>();
    for (const initiator of (await readdirOrEmpty(join(tpgDir, 'acls'))).sort()) {
      const dir = join(tpgDir, 'acls', initiator);
      acl.push(initiator);
      if (!(await readText(join(dir, 'info'))).startsWith('No active')) sessions.push(initiator);
      if (lun && (await readText(join(dir, `lun_${IMAGE_LUN}`, 'write_protect'))) !== '1') lun.readonly = false;
      const user = await readText(join(dir, 'auth', 'userid'));
      const mutual = await readText(join(dir, 'auth', 'userid_mutual'));
      if (user) chapUsers.add(user);
      if (mutual) chapMutualUsers.add(mutual);
    }
    if (lun && (await readText(join(tpgDir, 'attrib', 'demo_mode_write_protect'))) !== '1') lun.readonly = false;
    return { targetIqn, lun, acl, sessions, chapUsers: [...chapUsers], chapMutualUsers: [...chapMutualUsers] };
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]>;
async function readdirOrEmpty(dir: string, withTypes: true): Promise<import('node:fs').Dirent[]>;
async function readdirOrEmpty(dir: string, withTypes?: true): Promise<string[] | import('node:fs').Dirent[]> {
  try {
    return withTypes ? await readdir(dir, { withFileTypes: true }) : await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function readText(path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

function runTargetcli(commands: string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('targetcli', [], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', (err) => reject(new SkybootError('INTERNAL_SERVER_ERROR',
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'targetcli not found on PATH (install targetcli-fb)' : err.message)));
    child.once('close', (code) => (code === 0 ? resolvePromise()
      // targetcli may echo a failing command back, and set-auth commands carry secrets.
      : reject(new SkybootError('INTERNAL_SERVER_ERROR', `targetcli exited ${String(code)}: ${stderr.split('\n').filter((l) => !/password=/.test(l)).join('\n').trim()}`))));
    child.stdin.end(`${commands.join('\n')}\nexit\n`);
  });
}
