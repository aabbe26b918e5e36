/**
 * bench/bootstorm: a mass reboot of `--nodes` simulated nodes (default 2,000) against one agent,
 * then the same storm against dnsmasq + tftpd-hpa + nginx serving the same files, in one run.
 *
 * The agent is set up as a site sets one up, through the cloud: the local stack (gateway,
 * DynamoDB Local, s3rver, the local OAuth server) holds the site, its nodes (MAC and inventory
 * address each), an image with a `--kernel-mb` kernel and an `--initrd-mb` initrd, and a boot
 * configuration; `skyboot-agent run --dhcp full` in the server namespace logs in with the site's
 * client credentials, pulls its snapshot and downloads the artifacts itself, through relays to
 * the host's 127.0.0.1 (test/support/vm/relay.ts). Nothing is put in its cache or routes by hand.
 *
 * The LAN is two namespaces on a bridge (test/support/netns.ts): the server's (10.80.0.1/20) and
 * the clients' (bench/bootstorm/storm.ts). What the clients' namespace is given that a real node
 * would do itself: every node's inventory address on its one interface (a booted node configures
 * its own lease), and a 255.255.255.255 route (firmware sends its broadcasts as raw frames).
 *
 * Prints both storms (failures, time to the last node's initrd, p50/p99 per stage) and the ratio
 * (the peer's time to the last initrd over ours: above 1, the agent finished first); writes
 * bench/out/bootstorm.json.
 *   node --import tsx bench/bootstorm/run.ts [--nodes 2000] [--kernel-mb 12] [--initrd-mb 60] [--spread-ms 2000]
 */
import '../support/quietCloud.js';
import { type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDynamoDbLocal } from '../../local/emulators.js';
import { createLan, type NetnsHost } from '../../test/support/netns.js';
import { startRelay, type Relay } from '../../test/support/vm/relay.js';
import { startTestCloud } from '../../test/integration/sync/cloud.js';
import { until as waitUntil } from '../../test/integration/iscsi/siteImage.js';
import { fileBlob, siteFixture } from '../../test/integration/sync/siteFixture.js';
import { numberArg } from '../support/args.js';
import { staticNginxConf } from '../support/nginx.js';
import { writeReport } from '../support/report.js';
import type { StormConfig, StormResult } from './storm.js';

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const NODES = numberArg('nodes', 2000);
const KERNEL_MB = numberArg('kernel-mb', 12);
const INITRD_MB = numberArg('initrd-mb', 60);
const SPREAD_MS = numberArg('spread-ms', 2000);
const SERVER = '10.80.0.1';
const HTTP_PORT = 8080;
const PEER_HTTP_PORT = 8081;
const BOOT_FILE = '/usr/lib/ipxe/ipxe.efi';

const say = (s: string) => process.stderr.write(`${s}\n`);

/** Node i's MAC and inventory address: 10.80.1.1 … (250 per /24, inside the /20). */
const nodeOf = (i: number) => ({
  xname: `x${1000 + Math.floor(i / 512)}c${Math.floor(i / 64) % 8}s${i % 64}b0n0`,
  mac: `02:5b:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
  ip: `10.80.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`,
});

function capture(name: string, child: ChildProcess, sink: { log: string }): ChildProcess {
  const add = (d: Buffer) => {
    sink.log = (sink.log + `[${name}] ${d.toString()}`).slice(-20000);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return child;
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}

/** siteImage.ts's `until`, with what the servers printed when it times out. */
const until = <T>(what: string, fn: () => Promise<T | null | false | undefined>, timeoutMs: number, logs: () => string): Promise<T> =>
  waitUntil(what, fn, timeoutMs).catch((err: Error) => {
    throw new Error(`${err.message}\n${logs()}`);
  });

async function storm(cli: NetnsHost, cfgFile: string, label: string): Promise<StormResult> {
  say(`storm against ${label}: ${NODES} nodes…`);
  const { stdout } = await cli.exec(process.execPath, ['--import', 'tsx', join(REPO, 'bench/bootstorm/storm.ts'), cfgFile], { timeoutMs: 30 * 60_000 });
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as StormResult;
  say(`  ${label}: ${r.ok}/${r.nodes} reached their initrd in ${r.seconds.toFixed(1)} s; failures ${JSON.stringify(r.failures)}`);
  return r;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'skyboot-bootstorm-'));
  chmodSync(work, 0o755);
  const logs = { log: '' };
  const children: ChildProcess[] = [];
  const relays: Relay[] = [];
  let lan: Awaited<ReturnType<typeof createLan>> | undefined;
  say(`cloud: local stack, ${NODES} nodes, a ${KERNEL_MB} MiB kernel and a ${INITRD_MB} MiB initrd…`);
  const dynamo = await startDynamoDbLocal();
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  const cloud = await startTestCloud();
  try {
    const gw = cloud.gw;
    const kernelPath = join(work, 'kernel');
    const initrdPath = join(work, 'initrd');
    writeFileSync(kernelPath, randomBytes(KERNEL_MB * 2 ** 20));
    writeFileSync(initrdPath, randomBytes(INITRD_MB * 2 ** 20));
    const kernel = fileBlob(kernelPath);
    const initrd = fileBlob(initrdPath);
    const fx = await siteFixture(gw, 'storm', { kernelSize: 1024, initrdSize: 1024, nodeAddresses: ['10.80.14.1', '10.80.14.2'] });
    const imageId = await fx.pushImage('storm', kernel, initrd);
    const nodes = Array.from({ length: NODES }, (_, i) => nodeOf(i));
    for (let at = 0; at < nodes.length; at += 1000) {
      const r = await gw.gql<{ upsertComponents: { failed: number; errors: unknown[] } }>('mutation($in: [ComponentInput!]!) { upsertComponents(input: $in) { failed errors { path message } } }', {
        in: nodes.slice(at, at + 1000).map((n, j) => ({ xname: n.xname, site: fx.site, role: 'COMPUTE', nid: 1000 + at + j, arch: 'X86', interfaces: [{ mac: n.mac, ipAddresses: [n.ip], network: 'hsn' }] })),
      }, gw.tokens.admin);
      if (r.errors?.length || r.data?.upsertComponents.failed) throw new Error(`upsertComponents: ${JSON.stringify(r.errors ?? r.data?.upsertComponents.errors)}`);
    }
    await fx.setBoot({ selector: { roles: ['COMPUTE'] }, imageId, kernelParameters: 'console=ttyS0,115200 quiet' });

    lan = await createLan([{ name: 'srv', cidr: `${SERVER}/20` }, { name: 'cli', cidr: '10.80.0.2/20' }]);
    const { srv, cli } = { srv: lan.hosts.srv!, cli: lan.hosts.cli! };
    await cli.exec('ip', ['route', 'add', '255.255.255.255/32', 'dev', 'eth0']);
    await cli.exec('ip', ['-batch', '-'], { input: nodes.map((n) => `addr add ${n.ip}/20 dev eth0`).join('\n') + '\n', timeoutMs: 120_000 });

    // The agent reaches the gateway, S3 and the token endpoint at their 127.0.0.1 URLs through relays.
    const ports = [...new Set([gw.url, process.env.AWS_ENDPOINT_URL_S3!, fx.agentClient.tokenEndpoint].map((u) => Number(new URL(u).port)))];
    const specs = ports.map((port) => ({ port, socket: join(work, `relay-${port}.sock`) }));
    relays.push(...(await Promise.all(specs.map((r) => startRelay({ path: r.socket }, { host: '127.0.0.1', port: r.port })))));
    const relayProc = capture('relay', srv.spawn(process.execPath, ['--import', 'tsx', join(REPO, 'test/support/vm/relay-main.ts'), ...specs.map((r) => `${r.port}=${r.socket}`)], { cwd: REPO }), logs);
    children.push(relayProc);
    await until('the relays in the server namespace', async () => logs.log.includes('ready'), 30_000, () => logs.log);

    const tftpRoot = join(work, 'tftp');
    mkdirSync(tftpRoot);
    copyFileSync(BOOT_FILE, join(tftpRoot, 'ipxe.efi'));
    chmodSync(join(tftpRoot, 'ipxe.efi'), 0o644);
    const bootFile = fileBlob(join(tftpRoot, 'ipxe.efi'));
    writeFileSync(join(work, 'client-secret'), fx.agentClient.clientSecret, { mode: 0o600 });
    const dataDir = join(work, 'agent');
    say('agent: skyboot-agent run --dhcp full in the server namespace, syncing from the cloud…');
    const agent = capture('agent', srv.spawn(process.execPath, [join(REPO, 'bin/skyboot-agent.js'), 'run',
      '--cloud', gw.url, '--token-endpoint', fx.agentClient.tokenEndpoint, '--client-id', fx.agentClient.clientId, '--client-secret-file', join(work, 'client-secret'),
      '--data-dir', dataDir, '--http', `0.0.0.0:${HTTP_PORT}`, '--advertise-url', `http://${SERVER}:${HTTP_PORT}`,
      '--tftp', `${SERVER}:69`, '--tftp-root', tftpRoot, '--iscsi', 'off', '--sync-interval', '5',
      '--dhcp', 'full', '--dhcp-address', SERVER, '--dhcp-subnet', '10.80.0.0/20', '--dhcp-range', '10.80.15.1-10.80.15.200',
    ], { cwd: REPO, env: { ...process.env, SKYBOOT_LOG_LEVEL: 'warn' } }), logs);
    children.push(agent);
    const status = async () => JSON.parse((await srv.exec('curl', ['-sf', '--max-time', '5', `http://${SERVER}:${HTTP_PORT}/status`])).stdout) as { snapshot: { nodes: number }; cache: { missing: string[] }; dhcp: { running: boolean } };
    const synced = Date.now();
    await until('the agent to hold every node and artifact', async () => {
      if (agent.exitCode !== null) throw new Error(`the agent exited ${agent.exitCode}`);
      const s = await status();
      return s.snapshot.nodes >= NODES && s.cache.missing.length === 0 && s.dhcp.running && s;
    }, 10 * 60_000, () => logs.log);
    say(`  agent synced ${NODES + 2} nodes and ${KERNEL_MB + INITRD_MB} MiB of artifacts in ${((Date.now() - synced) / 1000).toFixed(1)} s`);

    const cfg: StormConfig = {
      nodes: nodes.map((n) => ({ mac: n.mac, ip: n.ip })),
      spreadMs: SPREAD_MS,
      verifyEvery: 50,
      expected: { bootFile: { size: bootFile.size, sha256: bootFile.sha256 }, kernel: { size: kernel.size, sha256: kernel.sha256 }, initrd: { size: initrd.size, sha256: initrd.sha256 } },
      nodeDeadlineMs: 20 * 60_000,
    };
    const cfgFile = join(work, 'storm.json');
    writeFileSync(cfgFile, JSON.stringify(cfg));
    // The script the agent renders for one node: the peer serves it, its URLs pointed at nginx, to every node.
    const script = (await srv.exec('curl', ['-sf', `http://${SERVER}:${HTTP_PORT}/boot/v1/bootscript?mac=${nodes[0]!.mac}`])).stdout;
    const ours = await storm(cli, cfgFile, 'the agent');
    await stop(agent);

    // The peer: the same files, dnsmasq (DHCP, the same MAC → address table), tftpd-hpa, nginx with sendfile.
    const www = join(work, 'www');
    mkdirSync(join(www, 'artifacts', 'sha256'), { recursive: true });
    mkdirSync(join(www, 'boot', 'v1'), { recursive: true });
    linkSync(kernelPath, join(www, 'artifacts', 'sha256', kernel.sha256));
    linkSync(initrdPath, join(www, 'artifacts', 'sha256', initrd.sha256));
    chmodSync(kernelPath, 0o644);
    chmodSync(initrdPath, 0o644);
    writeFileSync(join(www, 'boot', 'v1', 'bootscript'), script.split(`http://${SERVER}:${HTTP_PORT}/`).join(`http://${SERVER}:${PEER_HTTP_PORT}/`));
    writeFileSync(join(work, 'hosts'), nodes.map((n) => `${n.mac},${n.ip}`).join('\n') + '\n');
    writeFileSync(join(work, 'nginx.conf'), staticNginxConf({ dir: work, root: www, listen: `${SERVER}:${PEER_HTTP_PORT}`, workers: 'auto', connections: 8192, backlog: 4096 }));
    say('peer: dnsmasq + tftpd-hpa + nginx in the server namespace…');
    const peer = [
      capture('nginx', srv.spawn('nginx', ['-c', join(work, 'nginx.conf'), '-g', 'daemon off;']), logs),
      capture('tftpd', srv.spawn('in.tftpd', ['--foreground', '--address', `${SERVER}:69`, '--secure', tftpRoot]), logs),
      capture('dnsmasq', srv.spawn('dnsmasq', ['--no-daemon', '--conf-file=/dev/null', '--port=0', '--user=root', '--interface=eth0', '--bind-interfaces',
        '--dhcp-range=10.80.0.0,static,255.255.240.0', `--dhcp-lease-max=${NODES + 100}`, `--dhcp-hostsfile=${join(work, 'hosts')}`, `--dhcp-leasefile=${join(work, 'dnsmasq.leases')}`, '--dhcp-authoritative',
        '--dhcp-userclass=set:ipxe,iPXE', `--dhcp-boot=tag:ipxe,http://${SERVER}:${PEER_HTTP_PORT}/boot/v1/bootscript`, `--dhcp-boot=tag:!ipxe,ipxe.efi,,${SERVER}`]), logs),
    ];
    children.push(...peer);
    await until('the peer to listen', async () => {
      const udp = (await srv.exec('ss', ['-Hlun'])).stdout;
      const tcp = (await srv.exec('ss', ['-Hltn'])).stdout;
      return /:67\s/.test(`${udp} `) && /:69\s/.test(`${udp} `) && tcp.includes(`:${PEER_HTTP_PORT}`);
    }, 30_000, () => logs.log);
    const theirs = await storm(cli, cfgFile, 'dnsmasq + tftpd-hpa + nginx');
    for (const p of peer) await stop(p);

    const ratio = ours.lastInitrdMs && theirs.lastInitrdMs ? theirs.lastInitrdMs / ours.lastInitrdMs : null;
    const row = (label: string, r: StormResult) =>
      `${label.padEnd(30)} ${String(r.failed).padStart(8)} ${(r.lastInitrdMs === null ? '—' : (r.lastInitrdMs / 1000).toFixed(1)).padStart(12)}  ${['dhcp', 'tftp', 'dhcpIpxe', 'script', 'kernel', 'initrd'].map((s) => `${r.stages[s as keyof StormResult['stages']].p50}/${r.stages[s as keyof StormResult['stages']].p99}`).join('  ')}`;
    process.stdout.write(`\nboot storm: ${NODES} nodes, ${KERNEL_MB} MiB kernel + ${INITRD_MB} MiB initrd, power-on spread ${SPREAD_MS} ms (2 cores shared by servers and clients)\n`);
    process.stdout.write(`${'server'.padEnd(30)} ${'failures'.padStart(8)} ${'last initrd s'.padStart(12)}  p50/p99 ms: dhcp  tftp  dhcp(iPXE)  script  kernel  initrd\n`);
    process.stdout.write(`${row('skyboot-agent', ours)}\n${row('dnsmasq + tftpd-hpa + nginx', theirs)}\n`);
    process.stdout.write(`ratio (peer's time to the last initrd / ours): ${ratio === null ? 'n/a (a storm had failures)' : ratio.toFixed(2)}\n`);
    writeReport('bootstorm', { nodes: NODES, kernelMiB: KERNEL_MB, initrdMiB: INITRD_MB, spreadMs: SPREAD_MS, ours, theirs, ratio });
  } finally {
    for (const c of children.reverse()) await stop(c);
    for (const r of relays) await r.close();
    await lan?.destroy();
    await cloud.close();
    await dynamo.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err: Error) => {
  process.stderr.write(`bench/bootstorm: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
