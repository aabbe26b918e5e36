/** BMC TLS: trust on first use with pinned fingerprints, CA verification, explicit --insecure. */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { discover } from '../../../onprem-agent/redfish/discover.js';
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

  test('first contact pins each BMC fingerprint; a changed certificate is refused naming the BMC and both fingerprints', async () => {
    const pins = await PinStore.load(dir.path);
    const first = await discover({ targets: targetsOf(fleet), tls: { mode: 'pin', pins }, credentials: fleetCredentials(fleet) });
    expect(first.unreachable).toEqual([]);
    const fingerprint = new X509Certificate(cert.cert).fingerprint256;
    expect(first.redfishEndpoints.map((e) => e.tlsFingerprint)).toEqual([fingerprint, fingerprint]);
    await pins.save();

    fleet.rotateCertificates();
    fleet.resetStats();
    const reloaded = await PinStore.load(dir.path);
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
});
