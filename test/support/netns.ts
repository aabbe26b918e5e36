/**
 * Private Ethernet segments for tests that must send broadcasts or bind DHCP ports: a
 * "switch" namespace holding a bridge, and one namespace per host, each joined to the
 * bridge by a veth pair (`eth0` inside the host). Nothing touches the host's interfaces.
 *
 * Programs run inside a host with `host.exec(...)` / `host.spawn(...)` (`ip netns exec`).
 * A Node process cannot enter a namespace itself, so servers under test run as child
 * processes: `host.spawnNode(script, args)` starts `node --import tsx script` inside the
 * namespace with an IPC channel (it survives the exec), so the test can talk to it with
 * `child.send()` / `child.on('message')`.
 *
 * Names carry the pid and a counter, so parallel test files never clash; `destroy()` is
 * idempotent and also runs at process exit, so a failing test leaves nothing behind.
 */
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface HostSpec {
  name: string;
  /** Address with prefix, e.g. `10.55.0.1/24`; omit for an unconfigured interface (a DHCP client). */
  cidr?: string;
  mac?: string;
}

export interface NetnsHost {
  name: string;
  ns: string;
  iface: 'eth0';
  mac: string;
  address: string | undefined;
  exec(cmd: string, args: string[], opts?: { timeoutMs?: number; input?: string }): Promise<{ stdout: string; stderr: string }>;
  spawn(cmd: string, args: string[], opts?: SpawnOptions): ChildProcess;
  spawnNode(script: string, args?: string[]): ChildProcess;
}

export interface Lan {
  hosts: Record<string, NetnsHost>;
  /**
   * Plugs a host of another LAN into this one as a second NIC (`ifname` inside the host),
   * for multi-homed servers; `cidr` as in HostSpec. Removed with either LAN.
   */
  attach(host: NetnsHost, ifname: string, cidr?: string): Promise<void>;
  destroy(): Promise<void>;
}

let counter = 0;
const live = new Set<string>();

process.once('exit', () => {
  for (const ns of live) {
    try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); } catch { /* already gone */ }
  }
});

export function requireNetnsSupport(): void {
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    throw new Error('network namespace tests need the "ip" command (Debian package iproute2)');
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error('network namespace tests need root (ip netns add); run them as root or in CI');
  }
}

async function ip(args: string[]): Promise<void> {
  try {
    await run('ip', args);
  } catch (err) {
    throw new Error(`ip ${args.join(' ')} failed: ${(err as { stderr?: string }).stderr ?? String(err)}`, { cause: err });
  }
}

function randomMac(i: number): string {
  const r = Math.floor(Math.random() * 0xffff);
  return `52:54:00:${(r >> 8).toString(16).padStart(2, '0')}:${(r & 0xff).toString(16).padStart(2, '0')}:${(i + 1).toString(16).padStart(2, '0')}`;
}

export async function createLan(hosts: HostSpec[]): Promise<Lan> {
  requireNetnsSupport();
  const prefix = `sb${process.pid}x${counter++}`;
  const sw = `${prefix}-sw`;
  const created: string[] = [];
  const destroy = async (): Promise<void> => {
    for (const ns of created.splice(0).reverse()) {
      live.delete(ns);
      await run('ip', ['netns', 'del', ns]).catch(() => undefined);
    }
  };
  try {
    await ip(['netns', 'add', sw]);
    created.push(sw);
    live.add(sw);
    await ip(['-n', sw, 'link', 'add', 'br0', 'type', 'bridge']);
    await ip(['-n', sw, 'link', 'set', 'br0', 'up']);
    const out: Record<string, NetnsHost> = {};
    for (const [i, h] of hosts.entries()) {
      const ns = `${prefix}-${h.name}`;
      await ip(['netns', 'add', ns]);
      created.push(ns);
      live.add(ns);
      const mac = h.mac ?? randomMac(i);
      const port = `p${i}`;
      await ip(['-n', ns, 'link', 'add', 'eth0', 'address', mac, 'type', 'veth', 'peer', 'name', port, 'netns', sw]);
      await ip(['-n', sw, 'link', 'set', port, 'master', 'br0', 'up']);
      await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      await ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
      if (h.cidr) {
        // Only the connected subnet: no default route and no route for 255.255.255.255, as on
        // a site's boot NIC. A server that needs more must create it or say so at start-up.
        await ip(['-n', ns, 'addr', 'add', h.cidr, 'dev', 'eth0']);
      }
      out[h.name] = {
        name: h.name,
        ns,
        iface: 'eth0',
        mac,
        address: h.cidr?.split('/')[0],
        exec: async (cmd, args, opts = {}) => {
          const child = execFile('ip', ['netns', 'exec', ns, cmd, ...args], { timeout: opts.timeoutMs ?? 30000, encoding: 'utf8' });
          if (opts.input !== undefined) child.stdin?.end(opts.input);
          return new Promise((resolve, reject) => {
            let stdout = '';
            let stderr = '';
            child.stdout?.on('data', (d: string) => { stdout += d; });
            child.stderr?.on('data', (d: string) => { stderr += d; });
            child.on('error', reject);
            child.on('close', (code, signal) => {
              if (code === 0) resolve({ stdout, stderr });
              else reject(Object.assign(new Error(`${cmd} ${args.join(' ')} in ${ns} exited ${code ?? signal}: ${stderr.trim()}`), { stdout, stderr, code }));
            });
          });
        },
        spawn: (cmd, args, opts = {}) => spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: 'pipe', ...opts }),
        spawnNode: (script, args = []) => spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', script, ...args], {
          stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
          cwd: process.cwd(),
        }),
      };
    }
    let extra = 0;
    const attach = async (host: NetnsHost, ifname: string, cidr?: string): Promise<void> => {
      const port = `x${extra++}`;
      await ip(['-n', host.ns, 'link', 'add', ifname, 'address', randomMac(hosts.length + extra), 'type', 'veth', 'peer', 'name', port, 'netns', sw]);
      await ip(['-n', sw, 'link', 'set', port, 'master', 'br0', 'up']);
      if (cidr) await ip(['-n', host.ns, 'addr', 'add', cidr, 'dev', ifname]);
      await ip(['-n', host.ns, 'link', 'set', ifname, 'up']);
    };
    return { hosts: out, attach, destroy };
  } catch (err) {
    await destroy();
    throw err;
  }
}

/** Waits for a child started with `spawnNode` to send a message matching `pred`. */
export function nextMessage<T>(child: ChildProcess, pred: (m: unknown) => m is T, timeoutMs = 30000): Promise<T> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    const onErr = (d: Buffer): void => { stderr += d.toString(); };
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMsg);
      child.off('exit', onExit);
      child.stderr?.off('data', onErr);
    };
    const onMsg = (m: unknown): void => { if (pred(m)) { cleanup(); resolve(m); } };
    const onExit = (code: number | null): void => { cleanup(); reject(new Error(`child exited (${code}) before answering: ${stderr.slice(-2000)}`)); };
    const timer = setTimeout(() => { cleanup(); reject(new Error(`no answer from child within ${timeoutMs} ms: ${stderr.slice(-2000)}`)); }, timeoutMs);
    child.on('message', onMsg);
    child.on('exit', onExit);
    child.stderr?.on('data', onErr);
  });
}
