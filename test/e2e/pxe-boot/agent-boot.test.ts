/**
 * Issue 4's real PXE boot: a QEMU VM on a tap device inside a network namespace boots from the
 * Skyboot agent, twice.
 *
 * The cloud is real (test gateway + s3rver): the VM's node, image (a Debian kernel from /boot
 * and a busybox initramfs built here) and boot configuration are created through it. The agent
 * is the product's CLI, `skyboot-agent run` (bin/skyboot-agent.js), inside the namespace: it
 * pulls its snapshot and downloads and verifies the artifacts itself. Then:
 *  1. cloud up: UEFI firmware PXE (OVMF) gets an address and `ipxe.efi` from the agent's DHCP
 *     (full mode), fetches it over the agent's TFTP, iPXE chains the agent's HTTP boot script,
 *     loads kernel and initrd from the agent's cache, and the initramfs POSTs a heartbeat that
 *     the outbox delivers to the cloud;
 *  2. cloud stopped (gateway and S3 closed): the same boot, answered from the agent's cache; the
 *     heartbeat waits in the durable outbox and the agent reports the cloud as down;
 *  3. cloud still stopped, BIOS with Debian's iPXE option ROM (pxe-e1000.rom): the ROM is iPXE
 *     already, so the agent's DHCP breaks the chain loop at once (user class "iPXE") and hands
 *     out the boot-script URL; no TFTP;
 *  4. cloud still stopped, the agent restarted in ProxyDHCP mode (the default) next to the
 *     site's own DHCP server (dnsmasq on another host of the LAN, addresses only): it starts
 *     from its stored snapshot and cache, answers the UEFI boot, and the heartbeats of the
 *     earlier boots are still in its outbox.
 */
import { type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { observationKey } from '../../../functions/sites/snapshotObservations.js';
import { startTestCloud, type TestCloud } from '../../integration/sync/cloud.js';
import { fileBlob, siteFixture, type Blob, type SiteFixture } from '../../integration/sync/siteFixture.js';
import { buildInitramfs, MARKER } from '../../support/vm/initramfs.js';
import { bootVm, type BootResult } from '../../support/vm/qemu.js';
import { assertBooted, describeBoot } from '../../support/vm/report.js';
import { startRelay, type Relay } from '../../support/vm/relay.js';
import { createVmSite, type VmSite } from '../../support/vm/site.js';
import { startSiteDhcp, type SiteDhcp } from '../../support/vm/standins.js';
import { hostKernel, requireExecutable, requireFile } from '../../support/vm/tools.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../../..');
const BOOT_TIMEOUT_MS = 4 * 60_000;
const VM = { xname: 'x3000c0s2b0n0', mac: '52:54:00:5e:2f:01', octet: 79 };
/** The VM's inventory address: the agent's DHCP (full mode) and the site's DHCP both hand it out. */
const VM_IP = `10.77.${VM.octet}.50`;
const HTTP_PORT = 8080;

interface AgentStatusView {
  cloud: { up: boolean | null; lastError: string | null };
  snapshot: { revision: number | null; nodes: number };
  cache: { missing: string[]; entries: number };
  outbox: Record<string, unknown>;
  tftp: { started: number; completed: number; bytesSent: number } | null;
  http: { bootScripts: number; artifacts: number; heartbeats: number; refused: Record<string, number> };
  dhcp: { running: boolean; mode: string; offers?: number; acks?: number; proxyOffers?: number };
}

let work: string;
let site: VmSite | undefined;
let cloud: TestCloud | undefined;
let cloudRunning = false;
let fx: SiteFixture;
let agentProc: ChildProcess | undefined;
let agentLog = '';
let siteDhcp: SiteDhcp | undefined;
let relays: Relay[] = [];
let kernel: Blob;
let initrd: Blob;
const dataDir = (): string => join(work, 'agent-data');

function agentStatus(): AgentStatusView {
  const out = site!.run(requireExecutable('curl', 'curl'), ['-sf', '--max-time', '5', `http://${site!.address}:${HTTP_PORT}/status`]);
  return JSON.parse(out) as AgentStatusView;
}

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  let lastValue: unknown;
  for (;;) {
    try {
      const v = fn();
      if (v) return v;
      lastValue = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const status = (() => {
        try {
          return JSON.stringify(agentStatus());
        } catch (e) {
          return `unavailable: ${(e as Error).message}`;
        }
      })();
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ` (last value: ${String(lastValue)})`}\nagent status: ${status}\nagent log:\n${agentLog.slice(-6000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The idempotency key the agent answered the VM's heartbeat with (printed by the initramfs). */
function heartbeatKey(result: BootResult): string {
  const m = /"idempotencyKey":"([\w.:-]+)"/.exec(result.serial);
  if (!m) throw new Error(describeBoot('no idempotency key in the heartbeat reply', result, { 'agent log': agentLog.slice(-4000) }));
  return m[1]!;
}

let agentFlags: string[] = [];

/**
 * Starts `skyboot-agent run FLAGS` (bin/skyboot-agent.js, as `npx skyboot-agent` runs it) inside
 * the namespace and waits until its /status answers.
 */
async function startAgentProcess(flags: string[]): Promise<void> {
  agentLog += `--- skyboot-agent run ${flags.join(' ')} ---\n`;
  // Jest sets NODE_ENV=test, which silences the agent's logger; its log belongs in failure messages.
  const env = { ...process.env, SKYBOOT_LOG_LEVEL: process.env.SKYBOOT_LOG_LEVEL ?? 'info' };
  const proc = site!.spawn(process.execPath, [join(REPO, 'bin/skyboot-agent.js'), 'run', ...flags], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  agentProc = proc;
  proc.stdout?.on('data', (d: Buffer) => (agentLog += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (agentLog += d.toString()));
  const state = await until('the agent to answer /status', () => {
    if (proc.exitCode !== null) return 'exited';
    return agentStatus() && 'up';
  }, 60_000);
  if (state === 'exited') throw new Error(`skyboot-agent run exited with ${proc.exitCode}:\n${agentLog}`);
}

/** Relays from the namespace's loopback to the host's gateway and S3 (see relay.ts). */
let nsRelay: ChildProcess | undefined;

async function stopAgentProcess(): Promise<void> {
  const proc = agentProc;
  agentProc = undefined;
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
  if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
}

/** The outbox entries still waiting for the cloud, as text. */
function pendingObservations(): string[] {
  const pendingDir = join(dataDir(), 'outbox', 'pending');
  return readdirSync(pendingDir).map((f) => readFileSync(join(pendingDir, f), 'utf8'));
}

beforeAll(async () => {
  requireExecutable('qemu-system-x86_64', 'qemu-system-x86');
  work = mkdtempSync(join(tmpdir(), 'skyboot-pxe-boot-'));
  const hk = hostKernel();
  const initrdPath = join(work, 'initrd.gz');
  // virtio for OVMF's network boot; the kernel needs the driver as a module.
  buildInitramfs({ outFile: initrdPath, modules: ['e1000', 'virtio_pci', 'virtio_net'], kernel: hk });
  kernel = fileBlob(hk.image);
  initrd = fileBlob(initrdPath);
  const tftpRoot = join(work, 'tftp');
  mkdirSync(tftpRoot);
  copyFileSync(requireFile('/usr/lib/ipxe/ipxe.efi', 'the iPXE EFI binary', 'ipxe'), join(tftpRoot, 'ipxe.efi'));
  copyFileSync(requireFile('/usr/lib/ipxe/undionly.kpxe', 'the iPXE BIOS binary', 'ipxe'), join(tftpRoot, 'undionly.kpxe'));

  site = createVmSite({ octet: VM.octet });
  const agentBase = `http://${site.address}:${HTTP_PORT}`;

  cloud = await startTestCloud();
  cloudRunning = true;
  fx = await siteFixture(cloud.gw, 'pxeboot');
  const upsert = await cloud.gw.gql(`mutation($in: [ComponentInput!]!) { upsertComponents(input: $in) { created updated unchanged failed errors { path message } } }`, {
    in: [{ xname: VM.xname, site: 'pxeboot', role: 'APPLICATION', nid: 50, arch: 'X86', interfaces: [{ mac: VM.mac, ipAddresses: [VM_IP], network: 'boot' }] }],
  });
  if (upsert.errors?.length) throw new Error(`upsertComponents: ${JSON.stringify(upsert.errors)}`);
  const imageId = await fx.pushImage('pxe-boot-test', kernel, initrd);
  await fx.setBoot({ selector: { xnames: [VM.xname] }, imageId, kernelParameters: `console=ttyS0 quiet no_timer_check skyboot.heartbeat=${agentBase}/heartbeat` });

  // The agent reaches the gateway and S3 at their own 127.0.0.1 URLs through relays.
  const gwPort = Number(new URL(cloud.gw.url).port);
  const s3Port = Number(new URL(process.env.AWS_ENDPOINT_URL_S3 ?? '').port);
  if (!gwPort || !s3Port) throw new Error(`cannot read the gateway (${cloud.gw.url}) or S3 (${process.env.AWS_ENDPOINT_URL_S3}) port`);
  const relaySpecs = [gwPort, s3Port].map((port) => ({ port, socket: join(work, `relay-${port}.sock`) }));
  relays = await Promise.all(relaySpecs.map((r) => startRelay({ path: r.socket }, { host: '127.0.0.1', port: r.port })));

  const relayProc = site.spawn(process.execPath, ['--import', 'tsx', join(REPO, 'test/support/vm/relay-main.ts'), ...relaySpecs.map((r) => `${r.port}=${r.socket}`)], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  nsRelay = relayProc;
  let relayOut = '';
  relayProc.stdout?.on('data', (d: Buffer) => (relayOut += d.toString()));
  relayProc.stderr?.on('data', (d: Buffer) => (relayOut += d.toString()));
  await until('the relays in the namespace', () => relayProc.exitCode !== null || relayOut.includes('ready'), 30_000);
  if (!relayOut.includes('ready')) throw new Error(`relay-main failed: ${relayOut}`);

  writeFileSync(join(work, 'agent.token'), fx.agentToken);
  agentFlags = [
    '--cloud', cloud.gw.url,
    '--token-file', join(work, 'agent.token'),
    '--data-dir', dataDir(),
    '--http', `0.0.0.0:${HTTP_PORT}`,
    '--advertise-url', agentBase,
    '--tftp', `${site.address}:69`,
    '--tftp-root', tftpRoot,
    '--iscsi', 'off',
    '--sync-interval', '2',
  ];
  await startAgentProcess([...agentFlags, '--dhcp', 'full', '--dhcp-address', site.address, '--dhcp-subnet', site.subnet, '--dhcp-range', `10.77.${VM.octet}.100-10.77.${VM.octet}.150`]);
  const dhcp = agentStatus().dhcp;
  if (!dhcp.running || dhcp.mode !== 'full') throw new Error(`skyboot-agent run --dhcp full did not start its DHCP server: ${JSON.stringify(dhcp)}\n${agentLog}`);
  // First pull and artifact downloads happen in the agent, through the relays.
  await until('the agent to hold the snapshot and every artifact', () => {
    const s = agentStatus();
    return s.snapshot.revision !== null && s.snapshot.nodes >= 3 && s.cache.missing.length === 0 && s.cache.entries >= 2 && s;
  }, 90_000);
}, 300_000);

afterAll(async () => {
  await stopAgentProcess();
  nsRelay?.kill('SIGKILL');
  await siteDhcp?.stop();
  site?.remove();
  await Promise.all(relays.map((r) => r.close()));
  if (cloudRunning) await cloud?.close();
  if (work) rmSync(work, { recursive: true, force: true });
}, 60_000);

test('cloud up: OVMF PXE → agent DHCP → agent TFTP (ipxe.efi) → agent boot script → kernel + initrd from the cache; the heartbeat reaches the cloud', async () => {
  const before = agentStatus();
  const result = await bootVm({ site: site!, mac: VM.mac, serialLog: join(work, 'boot1-serial.log'), timeoutMs: BOOT_TIMEOUT_MS, doneMarker: MARKER.poweroff, firmware: 'uefi' });
  assertBooted('boot 1 (cloud up) from the agent', result, MARKER.heartbeatOk, { 'agent log': agentLog.slice(-6000) });
  expect(result.serial).toContain('NBP file downloaded successfully');
  expect(result.serial).toContain(`Skyboot: booting ${VM.xname}`);
  expect(result.serial).toContain(`${MARKER.address} 10.77.${VM.octet}.50`);
  const after = agentStatus();
  expect(after.tftp!.completed).toBeGreaterThan(before.tftp!.completed);
  // Firmware, iPXE and the initramfs's udhcpc each got an address from the agent.
  expect(after.dhcp.acks! - before.dhcp.acks!).toBeGreaterThanOrEqual(3);
  expect(after.http.bootScripts).toBeGreaterThan(before.http.bootScripts);
  expect(after.http.artifacts - before.http.artifacts).toBeGreaterThanOrEqual(2);
  expect(after.http.heartbeats).toBe(before.http.heartbeats + 1);
  // The outbox delivers the heartbeat to the cloud, stored under the key the VM was given.
  const key = heartbeatKey(result);
  const item = await (async () => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const got = await cloud!.gw.aws.clients.doc.send(new GetCommand({ TableName: cloud!.gw.aws.clients.config.tableName, Key: observationKey('pxeboot', key), ConsistentRead: true }));
      if (got.Item) return got.Item;
      if (Date.now() > deadline) throw new Error(`heartbeat ${key} never reached the cloud\nagent status: ${JSON.stringify(agentStatus())}\nagent log:\n${agentLog.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  expect(JSON.stringify(item)).toContain(VM.mac);
  expect(JSON.stringify(item)).toContain(VM.xname);
  process.stderr.write(`pxe-boot: boot 1 (cloud up, UEFI) took ${result.durationMs} ms\n`);
}, BOOT_TIMEOUT_MS + 60_000);

test('cloud stopped: the same boot is answered from the agent cache; the heartbeat waits in the outbox', async () => {
  const revision = agentStatus().snapshot.revision;
  await Promise.all(relays.map((r) => r.close()));
  relays = [];
  nsRelay?.kill('SIGTERM');
  await cloud!.close();
  cloudRunning = false;
  await until('the agent to report the cloud down', () => agentStatus().cloud.up === false, 30_000);

  const before = agentStatus();
  const result = await bootVm({ site: site!, mac: VM.mac, serialLog: join(work, 'boot2-serial.log'), timeoutMs: BOOT_TIMEOUT_MS, doneMarker: MARKER.poweroff, firmware: 'uefi' });
  assertBooted('boot 2 (cloud stopped) from the agent', result, MARKER.heartbeatOk, { 'agent log': agentLog.slice(-6000) });
  expect(result.serial).toContain('NBP file downloaded successfully');
  expect(result.serial).toContain(`Skyboot: booting ${VM.xname}`);
  const after = agentStatus();
  expect(after.cloud.up).toBe(false);
  expect(after.snapshot.revision).toBe(revision);
  expect(after.tftp!.completed).toBeGreaterThan(before.tftp!.completed);
  expect(after.http.artifacts - before.http.artifacts).toBeGreaterThanOrEqual(2);
  // Durable, undelivered: the heartbeat is a file in the outbox's pending directory.
  const key = heartbeatKey(result);
  expect(pendingObservations().filter((p) => p.includes(key) && p.includes(VM.mac))).toHaveLength(1);
  process.stderr.write(`pxe-boot: boot 2 (cloud stopped, UEFI) took ${result.durationMs} ms\n`);
}, BOOT_TIMEOUT_MS + 90_000);

test('cloud stopped, BIOS: Debian\'s iPXE ROM gets the boot-script URL straight from the agent\'s DHCP and boots from the cache', async () => {
  expect(cloudRunning).toBe(false);
  const before = agentStatus();
  const result = await bootVm({ site: site!, mac: VM.mac, serialLog: join(work, 'boot3-serial.log'), timeoutMs: BOOT_TIMEOUT_MS, doneMarker: MARKER.poweroff, firmware: 'bios' });
  assertBooted('boot 3 (cloud stopped, BIOS iPXE ROM) from the agent', result, MARKER.heartbeatOk, { 'agent log': agentLog.slice(-6000) });
  expect(result.serial).toContain(`${MARKER.address} 10.77.${VM.octet}.50`);
  const after = agentStatus();
  expect(after.cloud.up).toBe(false);
  // The ROM went straight to HTTP: no TFTP transfer, one boot script, kernel and initrd.
  expect(after.tftp!.started).toBe(before.tftp!.started);
  expect(after.http.bootScripts).toBe(before.http.bootScripts + 1);
  expect(after.http.artifacts - before.http.artifacts).toBeGreaterThanOrEqual(2);
  const key = heartbeatKey(result);
  expect(pendingObservations().filter((p) => p.includes(key))).toHaveLength(1);
  process.stderr.write(`pxe-boot: boot 3 (cloud stopped, BIOS iPXE ROM) took ${result.durationMs} ms\n`);
}, BOOT_TIMEOUT_MS + 30_000);

test('cloud stopped, agent restarted in ProxyDHCP mode next to the site DHCP server: UEFI boot from the stored snapshot and cache', async () => {
  expect(cloudRunning).toBe(false);
  const pendingBefore = pendingObservations();
  const revision = agentStatus().snapshot.revision;
  await stopAgentProcess();
  // The site's DHCP server lives on another host: it and the agent's ProxyDHCP both use UDP 67.
  // Like a real site's, it holds the inventory's address for the node (a reservation): the agent
  // accepts the node's heartbeat only from its inventory address (or from a lease of its own,
  // and in ProxyDHCP mode it leases nothing).
  const range = { start: `10.77.${VM.octet}.160`, end: `10.77.${VM.octet}.170` };
  siteDhcp = await startSiteDhcp(site!.addHost(2), work, range, [{ mac: VM.mac, ip: VM_IP }]);
  // The cloud's URLs lead nowhere from inside the namespace now: the relays are gone.
  await startAgentProcess([...agentFlags, '--dhcp', 'proxy', '--dhcp-address', site!.address]);
  const before = agentStatus();
  expect(before.snapshot.revision).toBe(revision);
  expect(before.cloud.up).not.toBe(true);
  expect(before.dhcp).toMatchObject({ running: true, mode: 'proxy' });

  const result = await bootVm({ site: site!, mac: VM.mac, serialLog: join(work, 'boot4-serial.log'), timeoutMs: BOOT_TIMEOUT_MS, doneMarker: MARKER.poweroff, firmware: 'uefi' });
  assertBooted('boot 4 (cloud stopped, agent restarted, ProxyDHCP) from the agent', result, MARKER.heartbeatOk, { 'agent log': agentLog.slice(-6000), 'site DHCP (dnsmasq) log': siteDhcp.logs() });
  expect(result.serial).toContain('NBP file downloaded successfully');
  expect(result.serial).toContain(`Skyboot: booting ${VM.xname}`);
  // The address came from the site's DHCP server (its reservation), not from the agent.
  expect(result.serial).toContain(`${MARKER.address} ${VM_IP} `);
  expect(siteDhcp.leases()).toMatch(new RegExp(`^\\d+ ${VM.mac} ${VM_IP.replace(/\./g, '\\.')} `, 'm'));
  const after = agentStatus();
  expect(after.http.heartbeats).toBe(before.http.heartbeats + 1);
  expect(after.http.refused).toEqual(before.http.refused);
  expect(after.tftp!.completed).toBeGreaterThan(before.tftp!.completed);
  // Firmware and iPXE got their boot file from ProxyDHCP offers; no address from the agent.
  expect(after.dhcp.proxyOffers! - before.dhcp.proxyOffers!).toBeGreaterThanOrEqual(2);
  expect(after.dhcp.acks).toBe(before.dhcp.acks);
  expect(after.http.artifacts - before.http.artifacts).toBeGreaterThanOrEqual(2);
  // Durable across the restart: every heartbeat that waited is still there, plus this one.
  const pending = pendingObservations();
  for (const p of pendingBefore) expect(pending).toContain(p);
  expect(pending.filter((p) => p.includes(heartbeatKey(result)))).toHaveLength(1);
  process.stderr.write(`pxe-boot: boot 4 (cloud stopped, restarted agent, ProxyDHCP, UEFI) took ${result.durationMs} ms\n`);
}, BOOT_TIMEOUT_MS + 90_000);
