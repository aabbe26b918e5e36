/**
 * The TFTP server against real clients (tftp-hpa, curl, busybox) and a raw socket for the
 * protocol corners stock clients never exercise. Loopback only: TFTP needs no namespace.
 */
import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTftpServer, type TftpServer } from '../../../onprem-agent/pxe/tftp/server.js';
import { tftpGet, TftpRemoteError } from '../../../onprem-agent/pxe/tftp/client.js';
import { decodeTftp, encodeAck, encodeError, encodeRequest, TftpErrorCode, TftpOp, type TftpPacket } from '../../../onprem-agent/pxe/tftp/packet.js';
import { resolveConfig } from '../../../onprem-agent/config.js';
import { startAgent, type RunningAgent } from '../../../onprem-agent/run/agent.js';
import { freeTcpPort } from '../../support/ports.js';
import { createLan, type Lan } from '../../support/netns.js';
import { IPXE_DIR, requireFile, requireTool } from './tools.js';

const run = promisify(execFile);
let root: string;
let work: string;
let server: TftpServer;
let port: number;
const outside = mkdtempSync(join(tmpdir(), 'skyboot-tftp-outside-'));

beforeAll(async () => {
  requireFile(join(IPXE_DIR, 'undionly.kpxe'), 'ipxe');
  requireFile(join(IPXE_DIR, 'ipxe.efi'), 'ipxe');
  root = mkdtempSync(join(tmpdir(), 'skyboot-tftp-root-'));
  work = mkdtempSync(join(tmpdir(), 'skyboot-tftp-work-'));
  copyFileSync(join(IPXE_DIR, 'undionly.kpxe'), join(root, 'undionly.kpxe'));
  copyFileSync(join(IPXE_DIR, 'ipxe.efi'), join(root, 'ipxe.efi'));
  writeFileSync(join(outside, 'secret'), 'not for TFTP');
  symlinkSync(join(outside, 'secret'), join(root, 'escape'));
  // Debian's layout: a link leaving the root for one file (/usr/lib/ipxe/ipxe.efi -> /boot/ipxe.efi).
  symlinkSync(join(IPXE_DIR, 'ipxe.efi'), join(root, 'linked.efi'));
  server = await createTftpServer({ root, address: '127.0.0.1', port: 0, timeoutMs: 300, maxTimeoutMs: 1200, retries: 4, maxTransfers: 3 });
  port = server.address().port;
});

afterAll(async () => {
  await server?.close();
  for (const d of [root, work, outside]) if (d) rmSync(d, { recursive: true, force: true });
});

const ipxeEfi = (): Buffer => readFileSync(join(IPXE_DIR, 'ipxe.efi'));

describe('TFTP server with real clients', () => {
  it('tftp-hpa fetches undionly.kpxe and ipxe.efi byte for byte', async () => {
    const tftp = requireTool('tftp', 'tftp-hpa');
    for (const file of ['undionly.kpxe', 'ipxe.efi']) {
      const dest = join(work, `hpa-${file}`);
      await run(tftp, ['-m', 'binary', '127.0.0.1', String(port), '-c', 'get', file, dest], { timeout: 30000 });
      expect(readFileSync(dest).equals(readFileSync(join(IPXE_DIR, file)))).toBe(true);
    }
  });

  it('curl fetches ipxe.efi with blksize 1468 and tsize, busybox tftp with -b 1024', async () => {
    const curl = requireTool('curl', 'curl');
    const dest = join(work, 'curl.efi');
    await run(curl, ['-sS', '--max-time', '30', '--tftp-blksize', '1468', '-o', dest, `tftp://127.0.0.1:${port}/ipxe.efi`]);
    expect(readFileSync(dest).equals(ipxeEfi())).toBe(true);
    const busybox = requireTool('busybox', 'busybox');
    const bb = join(work, 'bb.kpxe');
    await run(busybox, ['tftp', '-g', '-r', 'undionly.kpxe', '-l', bb, '-b', '1024', '127.0.0.1', String(port)], { timeout: 30000 });
    expect(readFileSync(bb).equals(readFileSync(join(IPXE_DIR, 'undionly.kpxe')))).toBe(true);
  });

  it('negotiates blksize, tsize and windowsize (RFC 2348, 2349, 7440) on an ephemeral port', async () => {
    const r = await tftpGet('127.0.0.1', port, 'ipxe.efi', { blksize: 1468, tsize: true, windowsize: 8 });
    expect(r.data.equals(ipxeEfi())).toBe(true);
    expect(Object.fromEntries(r.oack ?? [])).toEqual({ blksize: '1468', tsize: String(ipxeEfi().length), windowsize: '8' });
    expect(r.serverPort).not.toBe(port);
  });

  it('rolls the 16-bit block number over on a file of more than 65535 blocks', async () => {
    const big = Buffer.alloc(65540 * 8 + 3, 7);
    for (let i = 0; i < big.length; i += 97) big[i] = i & 0xff;
    writeFileSync(join(root, 'big.bin'), big);
    const r = await tftpGet('127.0.0.1', port, 'big.bin', { blksize: 8, windowsize: 64 });
    expect(r.data.equals(big)).toBe(true);
  });

  it('serves a replaced file\'s new bytes, not a stale cached copy', async () => {
    writeFileSync(join(root, 'changing.txt'), 'first version');
    expect((await tftpGet('127.0.0.1', port, 'changing.txt')).data.toString()).toBe('first version');
    writeFileSync(join(root, 'changing.txt'), 'second, longer version');
    expect((await tftpGet('127.0.0.1', port, '/changing.txt')).data.toString()).toBe('second, longer version');
  });

  it('refuses .. paths, links to files outside /boot and writes; allows Debian\'s link to /boot/ipxe.efi', async () => {
    const tftp = requireTool('tftp', 'tftp-hpa');
    const { stdout, stderr } = await run(tftp, ['127.0.0.1', String(port), '-c', 'get', '../../etc/passwd', join(work, 'passwd')], { timeout: 30000 });
    expect(stdout + stderr).toMatch(/Error code 2: .*leaves the TFTP root/);
    await expect(tftpGet('127.0.0.1', port, 'sub/../../x')).rejects.toMatchObject({ code: 2 });
    await expect(tftpGet('127.0.0.1', port, 'escape')).rejects.toThrow(/resolves outside the TFTP root/);
    await expect(tftpGet('127.0.0.1', port, 'missing.efi')).rejects.toMatchObject({ code: 1 });
    expect((await tftpGet('127.0.0.1', port, 'linked.efi')).data.equals(ipxeEfi())).toBe(true);
    const put = await run(tftp, ['127.0.0.1', String(port), '-c', 'put', join(root, 'undionly.kpxe'), 'upload.bin'], { timeout: 30000 });
    expect(put.stdout + put.stderr).toMatch(/Error code 2: this server is read-only/);
  });
});

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms: ${cond.toString()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Sends and waits until the datagram left, so closing the socket next cannot drop it. */
function sent(sock: Socket, buf: Buffer, to: number): Promise<void> {
  return new Promise((resolve, reject) => sock.send(buf, to, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
}

/** A socket that records every packet, for timing and counting what the server sends. */
async function rawPeer(): Promise<{ sock: Socket; packets: Array<{ at: number; port: number; pkt: TftpPacket }>; next: (n?: number) => Promise<void> }> {
  const sock = createSocket('udp4');
  const packets: Array<{ at: number; port: number; pkt: TftpPacket }> = [];
  const waiters: Array<() => void> = [];
  sock.on('message', (msg, rinfo) => {
    packets.push({ at: Date.now(), port: rinfo.port, pkt: decodeTftp(msg) });
    waiters.splice(0).forEach((w) => w());
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const next = (n = packets.length + 1): Promise<void> => new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`waited for packet ${n}, have ${packets.length}`)), 5000);
    const check = (): void => { if (packets.length >= n) { clearTimeout(t); resolve(); } else waiters.push(check); };
    check();
  });
  return { sock, packets, next };
}

describe('TFTP server on Debian\'s iPXE directory', () => {
  it('serves /usr/lib/ipxe as it is: its links into /boot serve exactly their files', async () => {
    const direct = await createTftpServer({ root: IPXE_DIR, address: '127.0.0.1', port: 0 });
    try {
      const r = await tftpGet('127.0.0.1', direct.address().port, 'ipxe.efi', { blksize: 1468 });
      expect(r.data.equals(ipxeEfi())).toBe(true);
      await expect(tftpGet('127.0.0.1', direct.address().port, '../../../etc/passwd')).rejects.toMatchObject({ code: 2 });
    } finally {
      await direct.close();
    }
  });
});

/**
 * The path `skyboot-agent run` takes (config → startAgent → the TFTP server it starts), on a
 * root an operator could plausibly build: Debian's link for ipxe.efi, and links to
 * directories outside the root, which must widen nothing.
 */
describe('agent run: TFTP root links', () => {
  let dir: string;
  let agent: RunningAgent;
  const get = (file: string) => tftpGet(agent.tftp!.address, agent.tftp!.port, file, { timeoutMs: 500, retries: 2 });

  beforeAll(async () => {
    requireFile('/etc/shadow', 'passwd');
    requireFile('/boot/ipxe.lkrn', 'ipxe');
    dir = mkdtempSync(join(tmpdir(), 'skyboot-tftp-run-'));
    const tftpRoot = join(dir, 'tftp');
    mkdirSync(tftpRoot);
    copyFileSync(join(IPXE_DIR, 'undionly.kpxe'), join(tftpRoot, 'undionly.kpxe'));
    symlinkSync(join(IPXE_DIR, 'ipxe.efi'), join(tftpRoot, 'ipxe.efi')); // -> /usr/lib/ipxe/ipxe.efi -> /boot/ipxe.efi
    symlinkSync('/etc', join(tftpRoot, 'vendor'));
    symlinkSync('/boot', join(tftpRoot, 'bootfiles'));
    writeFileSync(join(dir, 'agent.token'), 'not-used-offline');
    const closed = await freeTcpPort();
    agent = await startAgent(
      resolveConfig({ cloud: `http://127.0.0.1:${closed}/graphql`, tokenFile: join(dir, 'agent.token'), dataDir: join(dir, 'data'), http: '127.0.0.1:0', tftp: '127.0.0.1:0', tftpRoot, syncInterval: 3600 }),
    );
  });
  afterAll(async () => {
    await agent?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves ipxe.efi through Debian\'s link into /boot, and the plain files of the root', async () => {
    expect((await get('ipxe.efi')).data.equals(ipxeEfi())).toBe(true);
    expect((await get('undionly.kpxe')).data.equals(readFileSync(join(IPXE_DIR, 'undionly.kpxe')))).toBe(true);
  });

  it('a link vendor -> /etc inside the root does not make vendor/shadow servable', async () => {
    await expect(get('vendor/shadow')).rejects.toMatchObject({ code: TftpErrorCode.AccessViolation, message: expect.stringContaining('resolves outside the TFTP root') });
    await expect(get('vendor/passwd')).rejects.toMatchObject({ code: TftpErrorCode.AccessViolation });
    await expect(get('/vendor/../vendor/shadow')).rejects.toMatchObject({ code: TftpErrorCode.AccessViolation });
  });

  it('a file beside a linked file is not servable: a link allows its file, not its directory', async () => {
    // /boot/ipxe.lkrn sits next to /boot/ipxe.efi, which the root links to.
    await expect(get('bootfiles/ipxe.lkrn')).rejects.toMatchObject({ code: TftpErrorCode.AccessViolation });
    await expect(get('bootfiles')).rejects.toMatchObject({ code: TftpErrorCode.AccessViolation });
    expect((await agent.status()).tftp?.refused).toBeGreaterThanOrEqual(5);
  });
});

describe('TFTP server protocol behaviour', () => {
  it('retransmits with doubling timeouts and never resends on duplicate ACKs', async () => {
    const { sock, packets, next } = await rawPeer();
    try {
      sock.send(encodeRequest(TftpOp.RRQ, 'undionly.kpxe', 'octet'), port, '127.0.0.1');
      await next(3); // DATA 1, then two retransmissions of it
      expect(packets.map((p) => p.pkt.op === TftpOp.DATA && p.pkt.block)).toEqual([1, 1, 1]);
      const gap1 = packets[1]!.at - packets[0]!.at;
      const gap2 = packets[2]!.at - packets[1]!.at;
      expect(gap1).toBeGreaterThanOrEqual(250);
      expect(gap2).toBeGreaterThanOrEqual(gap1 * 1.6);
      const tid = packets[0]!.port;
      sock.send(encodeAck(1), tid, '127.0.0.1');
      sock.send(encodeAck(1), tid, '127.0.0.1');
      sock.send(encodeAck(1), tid, '127.0.0.1');
      await next(4);
      await new Promise((r) => setTimeout(r, 200));
      // Three ACKs for block 1 must yield exactly one DATA 2 before any timeout.
      const after = packets.slice(3).map((p) => p.pkt.op === TftpOp.DATA && p.pkt.block);
      expect(after).toEqual([2]);
      await sent(sock, encodeRequest(TftpOp.RRQ, 'x', 'octet'), tid); // wrong opcode on a transfer: aborts it
    } finally {
      sock.close();
    }
  });

  it('answers a packet from an unknown transfer ID with ERROR 5 and keeps the transfer (RFC 1350)', async () => {
    const a = await rawPeer();
    const b = await rawPeer();
    try {
      const strays = server.stats().strays;
      a.sock.send(encodeRequest(TftpOp.RRQ, 'undionly.kpxe', 'octet', new Map([['blksize', '1024']])), port, '127.0.0.1');
      await a.next(1);
      expect(a.packets[0]!.pkt.op).toBe(TftpOp.OACK);
      const tid = a.packets[0]!.port;
      // A forged ACK 0 from another port: the stranger hears ERROR 5 from the transfer's TID.
      await sent(b.sock, encodeAck(0), tid);
      await b.next(1);
      expect(b.packets[0]).toMatchObject({ port: tid, pkt: { op: TftpOp.ERROR, code: TftpErrorCode.UnknownTid } });
      // A stranger's ERROR is not answered (ERRORs never are) and does not end the transfer.
      await sent(b.sock, encodeError(TftpErrorCode.NotDefined, 'go away'), tid);
      await new Promise((r) => setTimeout(r, 100));
      expect(b.packets).toHaveLength(1);
      expect(a.packets).toHaveLength(1); // neither started the data
      a.sock.send(encodeAck(0), tid, '127.0.0.1');
      await a.next(2);
      expect(a.packets[1]!.pkt).toMatchObject({ op: TftpOp.DATA, block: 1 });
      expect((a.packets[1]!.pkt as { data: Buffer }).data.length).toBe(1024);
      expect(server.stats().strays - strays).toBe(2);
      await sent(a.sock, Buffer.from([0, 5, 0, 0, 0]), tid); // client ERROR ends it
    } finally {
      a.sock.close();
      b.sock.close();
    }
  });

  it('answers a DATA or ACK on the well-known port with ERROR 5, and an ERROR there with nothing', async () => {
    const { sock, packets, next } = await rawPeer();
    try {
      await sent(sock, encodeAck(3), port);
      await next(1);
      expect(packets[0]).toMatchObject({ port, pkt: { op: TftpOp.ERROR, code: TftpErrorCode.UnknownTid } });
      await sent(sock, encodeError(TftpErrorCode.NotDefined, 'stray'), port);
      await new Promise((r) => setTimeout(r, 100));
      expect(packets).toHaveLength(1);
    } finally {
      sock.close();
    }
  });

  it('starts one transfer, not two, when a client resends its RRQ', async () => {
    const { sock, packets, next } = await rawPeer();
    try {
      const before = server.stats().started;
      const rrq = encodeRequest(TftpOp.RRQ, 'undionly.kpxe', 'octet');
      await sent(sock, rrq, port);
      await sent(sock, rrq, port);
      await next(1);
      await new Promise((r) => setTimeout(r, 150));
      expect(server.stats().started - before).toBe(1);
      expect(new Set(packets.map((p) => p.port)).size).toBe(1);
      await sent(sock, Buffer.from([0, 5, 0, 0, 0]), packets[0]!.port);
    } finally {
      sock.close();
    }
  });

  it('caps concurrent transfers and says so in an ERROR packet', async () => {
    const peers = await Promise.all([rawPeer(), rawPeer(), rawPeer(), rawPeer()]);
    try {
      await until(() => server.stats().active === 0);
      for (const p of peers.slice(0, 3)) {
        p.sock.send(encodeRequest(TftpOp.RRQ, 'ipxe.efi', 'octet'), port, '127.0.0.1');
        await p.next(1);
      }
      expect(server.stats().active).toBe(3);
      const extra = peers[3]!;
      extra.sock.send(encodeRequest(TftpOp.RRQ, 'ipxe.efi', 'octet'), port, '127.0.0.1');
      await extra.next(1);
      expect(extra.packets[0]!.pkt).toMatchObject({ op: TftpOp.ERROR, code: 0, message: expect.stringContaining('server busy') });
      for (const p of peers.slice(0, 3)) await sent(p.sock, Buffer.from([0, 5, 0, 0, 0]), p.packets[0]!.port);
      await until(() => server.stats().active === 0);
      await expect(tftpGet('127.0.0.1', port, 'undionly.kpxe')).resolves.toBeDefined();
    } finally {
      peers.forEach((p) => p.sock.close());
    }
  });

  it('rejects bad options with ERROR 8 and unsupported modes with ERROR 4', async () => {
    const refused = tftpGet('127.0.0.1', port, 'ipxe.efi', { blksize: 4 });
    await expect(refused).rejects.toBeInstanceOf(TftpRemoteError);
    await expect(refused).rejects.toMatchObject({ code: 8 });
    const { sock, packets, next } = await rawPeer();
    try {
      sock.send(encodeRequest(TftpOp.RRQ, 'ipxe.efi', 'mail'), port, '127.0.0.1');
      await next(1);
      expect(packets[0]!.pkt).toMatchObject({ op: TftpOp.ERROR, code: 4 });
    } finally {
      sock.close();
    }
  });
});

/**
 * A host with two addresses on its provisioning NIC and the server on the wildcard address:
 * every reply comes from the address the client sent its request to (a client that talked to
 * .2 and hears from .1 drops the reply as another host's). A namespace, so the second address
 * is on a real interface and nothing of the host's own network is touched.
 */
describe('TFTP transfers answer from the address the request arrived on', () => {
  let lan: Lan;
  let child: ReturnType<Lan['hosts'][string]['spawnNode']>;
  const fixture = (name: string): string => join('test/integration/pxe/fixtures', name);

  beforeAll(async () => {
    lan = await createLan([{ name: 'srv', cidr: '10.71.0.1/24' }, { name: 'cli', cidr: '10.71.0.9/24' }]);
    await lan.hosts.srv!.exec('ip', ['addr', 'add', '10.71.0.2/24', 'dev', 'eth0']);
    child = lan.hosts.srv!.spawnNode(fixture('tftp-server.ts'), [JSON.stringify({ root, address: '0.0.0.0', port: 69 })]);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`the TFTP server in the namespace exited ${code}: ${stderr}`)));
    });
  }, 30_000);
  afterAll(async () => {
    child?.send({ cmd: 'close' });
    await new Promise((r) => (child && child.exitCode === null ? child.once('exit', r) : r(null)));
    await lan?.destroy();
  });

  it('replies from .2 to a request sent to .2, and from .1 to one sent to .1; tftp-hpa fetches through both', async () => {
    for (const address of ['10.71.0.2', '10.71.0.1']) {
      const { stdout } = await lan.hosts.cli!.exec(process.execPath, ['--import', 'tsx', fixture('tftp-first-reply.ts'), JSON.stringify({ address, port: 69, file: 'undionly.kpxe' })]);
      const first = JSON.parse(stdout.trim().split('\n').pop()!) as { from?: string; port?: number; op?: number; error?: string };
      expect(first).toMatchObject({ from: address, op: TftpOp.DATA });
      expect(first.port).not.toBe(69);
      const tftp = requireTool('tftp', 'tftp-hpa');
      const dest = join(work, `ns-${address}.kpxe`);
      await lan.hosts.cli!.exec(tftp, ['-m', 'binary', address, '-c', 'get', 'undionly.kpxe', dest]);
      expect(readFileSync(dest).equals(readFileSync(join(IPXE_DIR, 'undionly.kpxe')))).toBe(true);
    }
  }, 60_000);
});
