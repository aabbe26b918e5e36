/**
 * The boot-storm client, run inside the bench's client namespace: every simulated node boots at
 * once (power-on spread over `spreadMs`) the way UEFI PXE firmware and iPXE do, against whatever
 * answers on the LAN:
 *   1. DHCP DISCOVER/REQUEST as PXE firmware (client arch 7), retransmitted after 2, 4, 8, 16 s;
 *   2. TFTP of the boot file the answer names, from the node's own leased address;
 *   3. DHCP again as iPXE (user class "iPXE"): the answer names the boot script's URL;
 *   4. HTTP GET of the script (a "wait and ask again" script is followed, as iPXE chains it);
 *   5. HTTP GET of the kernel and the initrd the script names, read to the end and counted.
 * Each node's leased address is on this namespace's interface already (the bench adds every
 * inventory address before the storm; a node whose lease is another address fails, naming it).
 * argv[2]: a JSON file (StormConfig). Prints one JSON line (StormResult).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { get } from 'node:http';
import { readFileSync } from 'node:fs';
import { decodePacket, encodePacket, type DhcpPacket } from '../../onprem-agent/pxe/dhcp/packet.js';
import { pxeRequest } from '../../onprem-agent/pxe/dhcp/clientPacket.js';
import { MessageType, Opt } from '../../onprem-agent/pxe/dhcp/options.js';
import { tftpGet } from '../../onprem-agent/pxe/tftp/client.js';
import { parseBootScript } from '../../onprem-agent/redfish/simulator/simOs.js';

export const STAGES = ['dhcp', 'tftp', 'dhcpIpxe', 'script', 'kernel', 'initrd'] as const;
export type Stage = (typeof STAGES)[number];

export interface ExpectedFile {
  size: number;
  sha256: string;
}

export interface StormConfig {
  nodes: { mac: string; ip: string }[];
  /** Power-on spread: node i starts at a uniform random moment in [0, spreadMs). */
  spreadMs: number;
  /** sha256 of every n-th node's downloads is checked (all are checked for size). */
  verifyEvery: number;
  expected: { bootFile: ExpectedFile; kernel: ExpectedFile; initrd: ExpectedFile };
  /** How long a node may take from power-on to its initrd's last byte before it counts as failed. */
  nodeDeadlineMs: number;
}

export interface NodeOutcome {
  mac: string;
  /** Milliseconds each stage took. */
  stages: Partial<Record<Stage, number>>;
  /** From the storm's start to the initrd's last byte (null if the node failed). */
  doneAtMs: number | null;
  error: { stage: Stage; message: string } | null;
  bytes: number;
}

export interface StormResult {
  nodes: number;
  ok: number;
  failed: number;
  failures: { stage: Stage; message: string; count: number }[];
  lastInitrdMs: number | null;
  stages: Record<Stage, { p50: number; p99: number; max: number }>;
  bytes: number;
  seconds: number;
}

const DHCP_RETRY_MS = [2000, 4000, 8000, 16000];

class StageError extends Error {
  constructor(readonly stage: Stage, message: string) {
    super(message);
  }
}

/** One UDP socket on :68 for every node: answers are told apart by xid. */
class DhcpClient {
  private readonly waiting = new Map<number, (p: DhcpPacket) => void>();
  constructor(private readonly sock: Socket) {
    sock.on('message', (msg) => {
      if (msg.length < 240 || msg[0] !== 2) return;
      let p: DhcpPacket;
      try {
        p = decodePacket(msg);
      } catch {
        return;
      }
      this.waiting.get(p.xid)?.(p);
    });
  }

  /** Sends `packet` broadcast until an answer of one of `types` with its xid arrives. */
  private async exchange(packet: DhcpPacket, types: number[], what: string): Promise<DhcpPacket> {
    const wire = encodePacket(packet);
    try {
      for (const wait of DHCP_RETRY_MS) {
        const answer = await new Promise<DhcpPacket | null>((resolve) => {
          const t = setTimeout(() => resolve(null), wait);
          this.waiting.set(packet.xid, (p) => {
            const type = p.options.get(Opt.MessageType)?.[0];
            if (type !== undefined && types.includes(type)) {
              clearTimeout(t);
              resolve(p);
            }
          });
          this.sock.send(wire, 67, '255.255.255.255');
        });
        if (answer) return answer;
      }
    } finally {
      this.waiting.delete(packet.xid);
    }
    throw new Error(`no ${what} after ${DHCP_RETRY_MS.length} tries (${DHCP_RETRY_MS.reduce((a, b) => a + b, 0) / 1000} s)`);
  }

  /** DISCOVER → OFFER → REQUEST → ACK, as PXE firmware (ipxe false) or iPXE (true) sends them. */
  async lease(mac: string, ipxe: boolean): Promise<{ ip: string; bootFile: string; nextServer: string }> {
    const xid = randomBytes(4).readUInt32BE(0);
    const base = { mac, arch: 7, ipxe, xid, uuid: createHash('md5').update(mac).digest('hex') };
    const offer = await this.exchange(pxeRequest({ ...base, type: MessageType.Discover }), [MessageType.Offer], 'OFFER');
    const serverId = offer.options.get(Opt.ServerId);
    const request = pxeRequest({ ...base, type: MessageType.Request, requestedIp: offer.yiaddr, ...(serverId ? { serverId: [...serverId].join('.') } : {}) });
    const ack = await this.exchange(request, [MessageType.Ack, MessageType.Nak], 'ACK');
    if (ack.options.get(Opt.MessageType)?.[0] === MessageType.Nak) throw new Error(`NAK: ${ack.options.get(Opt.Message)?.toString('latin1') ?? 'no message'}`);
    const bootFile = ack.options.get(Opt.BootFileName)?.toString('latin1').replace(/\0+$/, '') || ack.file;
    const nextServer = ack.options.get(Opt.TftpServerName)?.toString('latin1').replace(/\0+$/, '') || ack.siaddr;
    return { ip: ack.yiaddr, bootFile, nextServer };
  }
}

/** GET `url` from `localAddress`, read to the end: the bytes, and their sha256 when asked. */
function download(url: string, localAddress: string, hash: boolean, timeoutMs: number): Promise<{ status: number; size: number; sha256: string | null; text: string | null }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { localAddress, agent: false, timeout: timeoutMs }, (res) => {
      const h = hash ? createHash('sha256') : null;
      let size = 0;
      const small: Buffer[] = [];
      res.on('data', (d: Buffer) => {
        size += d.length;
        h?.update(d);
        if (size <= 64 * 1024) small.push(d);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, size, sha256: h ? h.digest('hex') : null, text: size <= 64 * 1024 ? Buffer.concat(small).toString('utf8') : null }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

const hostOf = (address: string): string => address.split('/')[0]!;

async function bootNode(dhcp: DhcpClient, cfg: StormConfig, i: number, startedAt: number, addresses: Set<string>): Promise<NodeOutcome> {
  const node = cfg.nodes[i]!;
  const out: NodeOutcome = { mac: node.mac, stages: {}, doneAtMs: null, error: null, bytes: 0 };
  const verify = cfg.verifyEvery > 0 && i % cfg.verifyEvery === 0;
  const deadline = startedAt + cfg.nodeDeadlineMs;
  const left = () => Math.max(1000, deadline - Date.now());
  const stage = async <T>(name: Stage, fn: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    try {
      return await fn();
    } catch (err) {
      throw err instanceof StageError ? err : new StageError(name, (err as Error).message);
    } finally {
      out.stages[name] = Date.now() - t;
    }
  };
  const check = (name: Stage, got: { status: number; size: number; sha256: string | null }, want: ExpectedFile) => {
    if (got.status !== 200) throw new StageError(name, `HTTP ${got.status}`);
    if (got.size !== want.size) throw new StageError(name, `${got.size} bytes, expected ${want.size}`);
    if (got.sha256 && got.sha256 !== want.sha256) throw new StageError(name, `sha256 ${got.sha256}, expected ${want.sha256}`);
    out.bytes += got.size;
  };
  try {
    const pxe = await stage('dhcp', () => dhcp.lease(node.mac, false));
    if (!addresses.has(pxe.ip)) throw new StageError('dhcp', `leased ${pxe.ip}, not an address of this node (inventory ${node.ip})`);
    const boot = await stage('tftp', () => tftpGet(pxe.nextServer, 69, pxe.bootFile, { blksize: 1468, tsize: true, timeoutMs: 1000, retries: 6, deadlineMs: left(), localAddress: pxe.ip }));
    const bootSha = verify ? createHash('sha256').update(boot.data).digest('hex') : null;
    check('tftp', { status: 200, size: boot.data.length, sha256: bootSha }, cfg.expected.bootFile);
    const ipxe = await stage('dhcpIpxe', () => dhcp.lease(node.mac, true));
    if (!/^https?:\/\//.test(ipxe.bootFile)) throw new StageError('dhcpIpxe', `boot file ${JSON.stringify(ipxe.bootFile)} is not a URL`);
    const script = await stage('script', async () => {
      let url = ipxe.bootFile;
      for (let hop = 0; hop < 5; hop++) {
        const r = await download(url, ipxe.ip, false, left());
        if (r.status !== 200 || r.text === null) throw new Error(`${url}: HTTP ${r.status}`);
        const parsed = parseBootScript(r.text);
        if (parsed.kernelUrl) return parsed;
        // A script that waits and asks again: iPXE sleeps, then chains the URL it names.
        const chain = /^chain\s+(?:--\S+\s+)*(\S+)/m.exec(r.text)?.[1];
        const sleep = Number(/^sleep\s+(\d+)/m.exec(r.text)?.[1] ?? 1);
        if (!chain) throw new Error(`script names no kernel and no chain: ${r.text.slice(0, 200)}`);
        await new Promise((res) => setTimeout(res, sleep * 1000));
        url = chain;
      }
      throw new Error('still no kernel after 5 chained scripts');
    });
    check('kernel', await stage('kernel', () => download(script.kernelUrl!, ipxe.ip, verify, left())), cfg.expected.kernel);
    if (!script.initrdUrl) throw new StageError('initrd', 'the script names no initrd');
    check('initrd', await stage('initrd', () => download(script.initrdUrl!, ipxe.ip, verify, left())), cfg.expected.initrd);
    out.doneAtMs = Date.now() - startedAt;
  } catch (err) {
    const e = err instanceof StageError ? err : new StageError('dhcp', (err as Error).message);
    out.error = { stage: e.stage, message: e.message };
  }
  return out;
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function summarise(outcomes: NodeOutcome[], seconds: number): StormResult {
  const failures = new Map<string, { stage: Stage; message: string; count: number }>();
  for (const o of outcomes) {
    if (!o.error) continue;
    // Messages differ by address and size; the first 80 characters group them well enough.
    const key = `${o.error.stage}\u0000${o.error.message.slice(0, 80)}`;
    const f = failures.get(key) ?? { stage: o.error.stage, message: o.error.message.slice(0, 200), count: 0 };
    f.count++;
    failures.set(key, f);
  }
  const done = outcomes.filter((o) => o.doneAtMs !== null).map((o) => o.doneAtMs!);
  const stages = Object.fromEntries(STAGES.map((s) => {
    const v = outcomes.filter((o) => !o.error).map((o) => o.stages[s] ?? 0).sort((a, b) => a - b);
    return [s, { p50: percentile(v, 50), p99: percentile(v, 99), max: v[v.length - 1] ?? 0 }];
  })) as StormResult['stages'];
  return {
    nodes: outcomes.length,
    ok: done.length,
    failed: outcomes.length - done.length,
    failures: [...failures.values()].sort((a, b) => b.count - a.count).slice(0, 8),
    lastInitrdMs: done.length === outcomes.length && done.length ? Math.max(...done) : null,
    stages,
    bytes: outcomes.reduce((a, o) => a + o.bytes, 0),
    seconds,
  };
}

async function main(): Promise<void> {
  const cfg = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as StormConfig;
  const addresses = new Set(cfg.nodes.map((n) => hostOf(n.ip)));
  const sock = createSocket({ type: 'udp4', reuseAddr: true, recvBufferSize: 8 * 2 ** 20 });
  await new Promise<void>((r) => sock.bind(68, '0.0.0.0', () => r()));
  sock.setBroadcast(true);
  const dhcp = new DhcpClient(sock);
  const startedAt = Date.now();
  const outcomes = await Promise.all(cfg.nodes.map(async (_, i) => {
    await new Promise((r) => setTimeout(r, Math.random() * cfg.spreadMs));
    return bootNode(dhcp, cfg, i, startedAt, addresses);
  }));
  sock.close();
  process.stdout.write(`${JSON.stringify(summarise(outcomes, (Date.now() - startedAt) / 1000))}\n`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  main().catch((err: Error) => {
    process.stderr.write(`storm: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}
