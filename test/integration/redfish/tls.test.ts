/** BMC TLS: pinned fingerprints (trust on first use only when asked), CA verification, explicit --insecure. */
import { execFile, execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { X509Certificate } from 'node:crypto';
import { discover } from '../../../onprem-agent/redfish/discover.js';
import { existsSync } from 'node:fs';
import { endpointMapFromReport, powerAction } from '../../../onprem-agent/redfish/power.js';
import { PinStore } from '../../../onprem-agent/redfish/pins.js';
import { generateSelfSignedCert } from '../../../onprem-agent/redfish/simulator/cert.js';
import { startSimulatedFleet, type SimulatedFleet } from '../../../onprem-agent/redfish/simulator/fleet.js';
import { fleetCredentials, targetsOf, tempDir } from './support.js';

function opensslPresent(): void {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch {
    throw new Error('the openssl command (looked for on PATH) is needed to make simulated BMC certificates');
  }
}

describe('TLS to BMCs with self-signed certificates', () => {
  let fleet: SimulatedFleet;
  const dir = tempDir('skyboot-tls-');
  const cert = (opensslPresent(), generateSelfSignedCert('tls-test-bmc'));

  beforeAll(async () => {
    fleet = await startSimulatedFleet({ count: 2, vendors: ['dmtf', 'cray'], tls: cert });
  });
  afterAll(async () => {
    await fleet.close();
    dir.remove();
  });

  test('without trust on first use, an unpinned BMC gets no credentials and is reported untrusted with its fingerprint', async () => {
    const fresh = tempDir('skyboot-tls-untrusted-');
    try {
      fleet.resetStats();
      const pins = await PinStore.load(fresh.path, 'observe');
      const r = await discover({ targets: targetsOf(fleet), tls: { mode: 'pin', pins }, credentials: fleetCredentials(fleet) });
      expect(r.redfishEndpoints).toEqual([]);
      const fingerprint = new X509Certificate(cert.cert).fingerprint256;
      expect(r.unreachable.map((u) => u.stage)).toEqual(['untrusted', 'untrusted']);
      for (const u of r.unreachable) expect(u.reason).toContain(`certificate SHA-256 ${fingerprint} is not pinned, not CA-verified and not explicitly trusted, so no credentials were sent`);
      // Only the unauthenticated service root was read: no session POST, no authenticated GET.
      expect(fleet.stats().requests).toBe(2);
      await pins.save();
      expect(existsSync(PinStore.pinFile(fresh.path))).toBe(false);
    } finally {
      fresh.remove();
    }
  });

  test('first contact with trust on first use pins each BMC fingerprint; a changed certificate is refused naming the BMC and both fingerprints', async () => {
    const pins = await PinStore.load(dir.path, 'pin');
    const first = await discover({ targets: targetsOf(fleet), tls: { mode: 'pin', pins }, credentials: fleetCredentials(fleet) });
    expect(first.unreachable).toEqual([]);
    const fingerprint = new X509Certificate(cert.cert).fingerprint256;
    expect(first.redfishEndpoints.map((e) => e.tlsFingerprint)).toEqual([fingerprint, fingerprint]);
    await pins.save();

    fleet.rotateCertificates();
    fleet.resetStats();
    const reloaded = await PinStore.load(dir.path, 'observe');
    expect(reloaded.get(`127.0.0.1:${fleet.bmcs[0]!.port}`)).toBe(fingerprint);
    const second = await discover({ targets: targetsOf(fleet), tls: { mode: 'pin', pins: reloaded }, credentials: fleetCredentials(fleet) });
    expect(second.redfishEndpoints).toEqual([]);
    expect(second.unreachable).toHaveLength(2);
    for (const u of second.unreachable) {
      expect(u.reason).toContain(`BMC 127.0.0.1:${u.port}`);
      expect(u.reason).toContain(fingerprint);
      expect(u.reason).toMatch(/presented a certificate with SHA-256 fingerprint [0-9A-F:]{95}/);
    }
    // Refused before any request left the agent: no password went to the impostor.
    expect(fleet.stats().requests).toBe(0);
  });

  test('power refuses a BMC whose certificate discovery never pinned', async () => {
    const fresh = tempDir('skyboot-tls-power-');
    try {
      const seen = await discover({ targets: targetsOf(fleet), tls: { mode: 'insecure' }, credentials: fleetCredentials(fleet) });
      const xname = seen.redfishEndpoints[0]!.systems[0]!.xname;
      const pins = await PinStore.load(fresh.path, 'refuse');
      fleet.resetStats();
      const [r] = await powerAction([xname], 'status', { endpoints: endpointMapFromReport(seen), tls: { mode: 'pin', pins }, credentials: fleetCredentials(fleet), timeoutMs: 3000 });
      expect(r!.ok).toBe(false);
      expect(r!.error).toContain(`BMC 127.0.0.1:${seen.redfishEndpoints[0]!.port} presented a certificate with SHA-256 fingerprint`);
      expect(r!.error).toContain('which is not pinned');
      expect(fleet.stats().requests).toBe(0);
    } finally {
      fresh.remove();
    }
  });

  test('--insecure accepts any certificate, by explicit choice', async () => {
    const r = await discover({ targets: targetsOf(fleet), tls: { mode: 'insecure' }, credentials: fleetCredentials(fleet) });
    expect(r.redfishEndpoints).toHaveLength(2);
  });

  test('a CA file verifies the certificate; the wrong CA is refused', async () => {
    const ca = generateSelfSignedCert('tls-test-ca');
    const current = await startSimulatedFleet({ count: 1, vendors: ['dmtf'], tls: ca });
    try {
      const ok = await discover({ targets: targetsOf(current), tls: { mode: 'ca', ca: ca.cert }, credentials: fleetCredentials(current) });
      expect(ok.redfishEndpoints).toHaveLength(1);
      const bad = await discover({ targets: targetsOf(current), tls: { mode: 'ca', ca: cert.cert }, credentials: fleetCredentials(current) });
      expect(bad.redfishEndpoints).toHaveLength(0);
      expect(bad.unreachable[0]!.reason).toMatch(/self[- ]signed|certificate/i);
    } finally {
      await current.close();
    }
  });

  test('the CLI sends credentials to a new HTTPS BMC only with --trust-on-first-use, and says so otherwise', async () => {
    const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
    const fresh = tempDir('skyboot-tls-cli-');
    const other = await startSimulatedFleet({ count: 1, vendors: ['dmtf'], tls: cert, password: 'Tofu-Secret-1' });
    const cli = (extra: string[]) => promisify(execFile)(process.execPath, [join(repoRoot, 'bin', 'skyboot-agent.js'), 'discover', '--range', `https://127.0.0.1:${other.bmcs[0]!.port}`, '--data-dir', fresh.path, ...extra], {
      cwd: repoRoot, timeout: 60_000, env: { ...process.env, SKYBOOT_LOG_LEVEL: 'warn', SKYBOOT_BMC_USERNAME: other.username, SKYBOOT_BMC_PASSWORD: other.password },
    });
    try {
      const plain = await cli(['--dry-run']);
      expect(plain.stdout).toMatch(/0 BMCs, 0 nodes/);
      expect(plain.stdout).toMatch(new RegExp(`untrusted 127\\.0\\.0\\.1:${other.bmcs[0]!.port}: certificate SHA-256 [0-9A-F:]{95} is not pinned.*--trust-on-first-use`));
      const tofu = await cli(['--trust-on-first-use']);
      expect(tofu.stdout).toMatch(/1 BMCs, 1 nodes/);
      expect(existsSync(PinStore.pinFile(fresh.path))).toBe(true);
      // Pinned now: later runs need no flag.
      expect((await cli(['--dry-run'])).stdout).toMatch(/1 BMCs, 1 nodes/);
    } finally {
      await other.close();
      fresh.remove();
    }
  }, 60_000);
});
