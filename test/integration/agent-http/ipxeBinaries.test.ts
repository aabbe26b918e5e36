import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../../onprem-agent/config.js';
import { startAgent, type RunningAgent } from '../../../onprem-agent/run/agent.js';
import { tftpGet } from '../../../onprem-agent/pxe/tftp/client.js';
import { DEBIAN_IPXE_DIR } from '../../../onprem-agent/pxe/tftp/ipxeBinaries.js';
import { freeTcpPort } from '../../support/ports.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * The iPXE binaries as `run` serves them from Debian's ipxe package: over TFTP (legacy PXE)
 * and over HTTP at /boot/v1/ipxe/<file> (the boot file DHCP gives UEFI HTTP-boot clients),
 * including ipxe.efi, which Debian links into /boot. The cloud is unreachable here: none of
 * this waits on it.
 */
describe('agent run: iPXE binaries over TFTP and HTTP (Debian ipxe package)', () => {
  let dir: string;
  let agent: RunningAgent;
  const efi = readFileSync(join(DEBIAN_IPXE_DIR, 'ipxe.efi'));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skyboot-ipxe-'));
    writeFileSync(join(dir, 'agent.token'), 'not-used-offline');
    const closed = await freeTcpPort();
    agent = await startAgent(
      resolveConfig({ cloud: `http://127.0.0.1:${closed}/graphql`, tokenFile: join(dir, 'agent.token'), dataDir: join(dir, 'data'), http: '127.0.0.1:0', tftp: '127.0.0.1:0', tftpRoot: DEBIAN_IPXE_DIR, syncInterval: 3600 }),
    );
  });
  afterAll(async () => {
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves ipxe.efi (a symlink into /boot) over HTTP with its exact bytes, and refuses other names', async () => {
    const res = await fetch(`${agent.httpUrl}/boot/v1/ipxe/ipxe.efi`);
    expect(res.status).toBe(200);
    expect(sha(Buffer.from(await res.arrayBuffer()))).toBe(sha(efi));
    expect((await fetch(`${agent.httpUrl}/boot/v1/ipxe/no-such.efi`)).status).toBe(404);
    expect((await fetch(`${agent.httpUrl}/boot/v1/ipxe/..%2F..%2Fetc%2Fpasswd`)).status).toBe(404);
  });

  it('serves the same ipxe.efi over TFTP with blksize 1468', async () => {
    const got = await tftpGet(agent.tftp!.address, agent.tftp!.port, 'ipxe.efi', { blksize: 1468 });
    expect(sha(got.data)).toBe(sha(efi));
  });
});
