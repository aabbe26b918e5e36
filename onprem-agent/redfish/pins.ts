/**
 * Certificate pins: the SHA-256 fingerprint of each BMC's certificate. A pinned BMC presenting
 * another certificate is refused until an operator removes the pin. What happens on first sight
 * of an unpinned BMC is the caller's explicit choice (`UnknownCertificatePolicy`): pin it
 * (trust on first use, `discover --trust-on-first-use`), only observe it (discovery without that
 * flag: the connection may read the unauthenticated service root, and no credentials go to it),
 * or refuse it (power: only BMCs discovery trusted get credentials).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../sync/atomicFile.js';
import { dirname, join } from 'node:path';
import { ForbiddenError } from '../../schema/errors.js';

export class CertificatePinMismatchError extends ForbiddenError {
  constructor(readonly bmc: string, readonly pinned: string, readonly presented: string, pinFile: string) {
    super(`BMC ${bmc} presented a certificate with SHA-256 fingerprint ${presented}, but ${pinned} is pinned for it; `
      + `if the BMC was replaced or re-keyed, remove its entry from ${pinFile} and discover it again`);
  }
}

export class CertificateNotPinnedError extends ForbiddenError {
  constructor(readonly bmc: string, readonly presented: string) {
    super(`BMC ${bmc} presented a certificate with SHA-256 fingerprint ${presented}, which is not pinned; `
      + 'run skyboot-agent discover for it (with --trust-on-first-use once the fingerprint is checked, or --ca) first');
  }
}

export type UnknownCertificatePolicy = 'pin' | 'observe' | 'refuse';

export class PinStore {
  private pins: Record<string, string> = {};
  private readonly seen = new Map<string, string>();
  private dirty = false;

  private constructor(readonly file: string, readonly onUnknown: UnknownCertificatePolicy) {}

  static pinFile(dataDir: string): string {
    return join(dataDir, 'redfish', 'tls-pins.json');
  }

  static async load(dataDir: string, onUnknown: UnknownCertificatePolicy): Promise<PinStore> {
    const store = new PinStore(PinStore.pinFile(dataDir), onUnknown);
    try {
      store.pins = JSON.parse(await readFile(store.file, 'utf8')) as Record<string, string>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    return store;
  }

  get(bmc: string): string | undefined {
    return this.pins[bmc];
  }

  /** The fingerprint an unpinned BMC presented under the 'observe' policy. */
  observed(bmc: string): string | undefined {
    return this.seen.get(bmc);
  }

  /** Whether a BMC's identity is established before any credential goes to it. */
  trusts(bmc: string): boolean {
    return this.pins[bmc] !== undefined || this.onUnknown === 'pin';
  }

  /** Throws when a different fingerprint is pinned; an unknown one is handled as `onUnknown` says. */
  check(bmc: string, fingerprint: string): void {
    const pinned = this.pins[bmc];
    if (pinned === undefined) {
      if (this.onUnknown === 'refuse') throw new CertificateNotPinnedError(bmc, fingerprint);
      if (this.onUnknown === 'observe') {
        this.seen.set(bmc, fingerprint);
        return;
      }
      this.pins[bmc] = fingerprint;
      this.dirty = true;
    } else if (pinned !== fingerprint) {
      throw new CertificatePinMismatchError(bmc, pinned, fingerprint, this.file);
    }
  }

  async save(): Promise<void> {
    if (!this.dirty) return;
    await mkdir(dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, JSON.stringify(this.pins, null, 2) + '\n', 0o600);
    this.dirty = false;
  }
}
