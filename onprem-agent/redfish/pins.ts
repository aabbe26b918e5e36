/**
 * Trust-on-first-use pins: the SHA-256 fingerprint of each BMC's certificate, recorded the first
 * time the agent talks to it. A changed certificate is refused until an operator removes the pin.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ForbiddenError } from '../../schema/errors.js';
import { writeFileAtomic } from '../sync/atomicFile.js';

export class CertificatePinMismatchError extends ForbiddenError {
  constructor(readonly bmc: string, readonly pinned: string, readonly presented: string, pinFile: string) {
    super(`BMC ${bmc} presented a certificate with SHA-256 fingerprint ${presented}, but ${pinned} is pinned for it; `
      + `if the BMC was replaced or re-keyed, remove its entry from ${pinFile} and discover it again`);
  }
}

export class PinStore {
  private pins: Record<string, string> = {};
  private dirty = false;

  private constructor(readonly file: string) {}

  static pinFile(dataDir: string): string {
    return join(dataDir, 'redfish', 'tls-pins.json');
  }

  static async load(dataDir: string): Promise<PinStore> {
    const store = new PinStore(PinStore.pinFile(dataDir));
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

  /** Pins on first sight; throws when a different fingerprint is already pinned. */
  check(bmc: string, fingerprint: string): void {
    const pinned = this.pins[bmc];
    if (pinned === undefined) {
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
