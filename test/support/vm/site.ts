/**
 * A one-machine "site" for boot tests: a network namespace holding a bridge (the site LAN, with
 * the agent's address) and a tap device on it for QEMU. Everything lives inside the namespace,
 * so a DHCP server started here can never answer on a host interface; remove() kills whatever
 * still runs inside and deletes the namespace (and with it the bridge and tap).
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { requireExecutable } from './tools.js';

export interface VmSite {
  ns: string;
  bridge: string;
  tap: string;
  /** The agent's address on the site LAN (on the bridge). */
  address: string;
  prefixLength: number;
  /** The LAN in CIDR form, e.g. 10.77.0.0/24. */
  subnet: string;
  /** Starts `command args` inside the namespace. */
  spawn(command: string, args: string[], options?: SpawnOptions): ChildProcess;
  /** Runs `command args` inside the namespace and returns its stdout. */
  run(command: string, args: string[]): string;
  /**
   * Another machine on the site LAN: its own namespace, joined to the bridge by a veth pair
   * (`eth0` inside) with `10.77.<octet>.<lastOctet>/24`. For servers that must not share the
   * agent's host, such as the site's own DHCP server next to a ProxyDHCP agent (both bind
   * UDP 67). Removed with the site.
   */
  addHost(lastOctet: number): SiteHost;
  remove(): void;
}

export interface SiteHost {
  ns: string;
  address: string;
  spawn(command: string, args: string[], options?: SpawnOptions): ChildProcess;
  run(command: string, args: string[]): string;
}

let counter = 0;

function ip(args: string[]): string {
  return execFileSync(requireExecutable('ip', 'iproute2'), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface VmSiteOptions {
  /** Third octet of 10.77.X.0/24, so two sites never look alike in logs. */
  octet?: number;
}

export function createVmSite(opts: VmSiteOptions = {}): VmSite {
  if (process.getuid?.() !== 0) throw new Error('VM harness: creating network namespaces needs root (ip netns add)');
  removeStaleSites();
  counter += 1;
  // Names carry the pid so parallel test files and leftovers of a killed run never collide.
  const ns = `skyvm-${process.pid}-${counter}`;
  const bridge = 'br0';
  const tap = 'tap0';
  const octet = opts.octet ?? 77;
  const address = `10.77.${octet}.1`;
  ip(['netns', 'add', ns]);
  const hosts: string[] = [];
  const site: VmSite = {
    ns,
    bridge,
    tap,
    address,
    prefixLength: 24,
    subnet: `10.77.${octet}.0/24`,
    spawn(command, args, options = {}) {
      return spawn(requireExecutable('ip', 'iproute2'), ['netns', 'exec', ns, command, ...args], options);
    },
    run(command, args) {
      return ip(['netns', 'exec', ns, command, ...args]);
    },
    addHost(lastOctet) {
      const hostNs = `${ns}-h${lastOctet}`;
      const hostAddress = `10.77.${octet}.${lastOctet}`;
      hosts.push(hostNs);
      ip(['netns', 'add', hostNs]);
      ip(['-n', ns, 'link', 'add', `vh${lastOctet}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', hostNs]);
      ip(['-n', ns, 'link', 'set', `vh${lastOctet}`, 'master', bridge]);
      ip(['-n', ns, 'link', 'set', `vh${lastOctet}`, 'up']);
      ip(['-n', hostNs, 'link', 'set', 'lo', 'up']);
      ip(['-n', hostNs, 'addr', 'add', `${hostAddress}/24`, 'dev', 'eth0']);
      ip(['-n', hostNs, 'link', 'set', 'eth0', 'up']);
      return {
        ns: hostNs,
        address: hostAddress,
        spawn: (command, args, options = {}) => spawn(requireExecutable('ip', 'iproute2'), ['netns', 'exec', hostNs, command, ...args], options),
        run: (command, args) => ip(['netns', 'exec', hostNs, command, ...args]),
      };
    },
    remove() {
      for (const h of hosts) removeSite(h);
      removeSite(ns);
    },
  };
  try {
    ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    // forward_delay 0: the tap port forwards as soon as QEMU opens it, or the ROM's first DHCP
    // DISCOVERs would be dropped while the bridge "learns".
    ip(['-n', ns, 'link', 'add', bridge, 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0']);
    ip(['-n', ns, 'addr', 'add', `${address}/24`, 'dev', bridge]);
    ip(['-n', ns, 'link', 'set', bridge, 'up']);
    // Only the connected subnet, no default route and no route for 255.255.255.255: a boot
    // NIC as sites have it. The agent's DHCP server (and dnsmasq beside it) need nothing more.
    ip(['-n', ns, 'tuntap', 'add', 'dev', tap, 'mode', 'tap']);
    ip(['-n', ns, 'link', 'set', tap, 'master', bridge]);
    ip(['-n', ns, 'link', 'set', tap, 'up']);
  } catch (e) {
    removeSite(ns);
    throw e;
  }
  return site;
}

/** Kills every process still in the namespace, then deletes it. Never throws. */
export function removeSite(ns: string): void {
  try {
    const pids = ip(['netns', 'pids', ns]).split(/\s+/).filter((p) => /^\d+$/.test(p));
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  } catch {
    // namespace already gone
  }
  try {
    ip(['netns', 'delete', ns]);
  } catch {
    // already gone
  }
}

/**
 * Namespaces left by a test run that was killed before its afterAll (their pid is gone), with
 * whatever still runs inside them (a QEMU, a DHCP server).
 */
export function removeStaleSites(): void {
  let names: string[];
  try {
    names = ip(['netns', 'list']).split('\n').map((l) => l.split(' ')[0]!);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^skyvm-(\d+)-\d+(-h\d+)?$/.exec(name);
    if (!m || Number(m[1]) === process.pid) continue;
    let alive = true;
    try {
      process.kill(Number(m[1]), 0);
    } catch {
      alive = false;
    }
    if (!alive) removeSite(name);
  }
}
