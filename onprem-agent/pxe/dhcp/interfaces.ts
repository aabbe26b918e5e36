/**
 * The boot interfaces the DHCP server answers on, resolved and checked at start-up.
 *
 * Replies are sent from a socket bound to the interface's IPv4 address because of how Linux
 * routes the limited broadcast (255.255.255.255): a socket bound to 0.0.0.0 needs a route
 * for it (none exists on a boot NIC without the default route, so the send fails with
 * ENETUNREACH, or leaves on the default route's NIC), while for a socket bound to a local
 * address the kernel sends limited broadcast out of the interface that holds that address,
 * with no route at all (net/ipv4/route.c, the "special hack" for multicast and limited
 * broadcast with a source address). That is plain dgram, no native code; SO_BINDTODEVICE
 * and IP_PKTINFO, which dnsmasq and smee use, are not reachable from Node.
 *
 * So a wrong setting must stop the start with a message that names it: an interface that
 * does not exist, is down, or has no IPv4 address, or a `dhcpAddress` that no boot
 * interface holds.
 */
import { execFileSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { BadUserInputError } from '../../../schema/errors.js';
import { cidrContains, parseCidr, type Cidr } from '../../../schema/ip.js';

export class DhcpInterfaceError extends BadUserInputError {
  constructor(reason: string) {
    super('dhcpInterface', reason);
  }
}

export interface DhcpInterface {
  name: string;
  /** False when the link was down at start-up: worth a warning, not a refusal. */
  carrier: boolean;
  /** The address replies are sent from: server identifier and next-server on this segment. */
  address: string;
  /** The connected subnet, e.g. 10.60.0.0/24. */
  subnet: Cidr;
}

/** What the host has; tests pass their own. */
export interface HostInterface {
  name: string;
  up: boolean;
  /** Link detected; an interface can be up, addressed and still without carrier (cable, VM not started). */
  carrier?: boolean;
  ipv4: Array<{ address: string; cidr: string }>;
}

interface IpJsonLink {
  ifname: string;
  flags?: string[];
  addr_info?: Array<{ family: string; local: string; prefixlen: number }>;
}

/**
 * The interfaces of this network namespace with their IPv4 addresses, from `ip -j addr`
 * (iproute2). Not os.networkInterfaces(): libuv leaves out every interface without carrier,
 * so a boot NIC whose link is not up yet (a switch port still negotiating, a bridge whose
 * VM has not started) would look absent.
 */
export function hostInterfaces(): HostInterface[] {
  let links: IpJsonLink[];
  try {
    links = JSON.parse(execFileSync('ip', ['-j', 'addr', 'show'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as IpJsonLink[];
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new DhcpInterfaceError(`cannot list interfaces with "ip -j addr show": ${(err as Error).message}`);
    // No iproute2: only interfaces with carrier are visible, the check says so when it fails.
    return Object.entries(networkInterfaces()).map(([name, addrs]) => ({
      name,
      up: true,
      carrier: true,
      ipv4: (addrs ?? []).filter((a) => a.family === 'IPv4' && a.cidr).map((a) => ({ address: a.address, cidr: a.cidr! })),
    }));
  }
  return links.map((l) => ({
    name: l.ifname,
    up: (l.flags ?? []).includes('UP'),
    carrier: (l.flags ?? []).includes('LOWER_UP'),
    ipv4: (l.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => ({ address: a.local, cidr: `${a.local}/${a.prefixlen}` })),
  }));
}

function toDhcpInterface(i: HostInterface, address: { address: string; cidr: string }): DhcpInterface {
  return { name: i.name, carrier: i.carrier ?? true, address: address.address, subnet: parseCidr(address.cidr, `dhcpInterface.${i.name}`) };
}

/**
 * `names` (the `dhcpInterface` setting) or, when empty, the interface that holds `address`
 * (`dhcpAddress`). With both, `address` must be on one of the named interfaces, and that
 * address is the one used there.
 */
export function resolveDhcpInterfaces(names: readonly string[], address: string | undefined, host: HostInterface[] = hostInterfaces()): DhcpInterface[] {
  const present = host.map((h) => h.name).join(', ') || 'none';
  if (names.length === 0) {
    if (!address) throw new DhcpInterfaceError('set dhcpInterface (the boot NIC) or dhcpAddress (an address of it)');
    const holder = host.find((h) => h.ipv4.some((a) => a.address === address));
    if (!holder) throw new DhcpInterfaceError(`no interface of this host has the dhcpAddress ${address} (interfaces: ${describe(host)}); set dhcpInterface or fix dhcpAddress`);
    return resolveDhcpInterfaces([holder.name], address, host);
  }
  const out: DhcpInterface[] = [];
  for (const name of names) {
    const i = host.find((h) => h.name === name);
    if (!i) throw new DhcpInterfaceError(`no interface "${name}" on this host (present: ${present})`);
    if (!i.up) throw new DhcpInterfaceError(`interface "${name}" is down (ip link set ${name} up)`);
    if (i.ipv4.length === 0) throw new DhcpInterfaceError(`interface "${name}" has no IPv4 address; DHCP replies are sent from it, so it needs one on the boot network`);
    const chosen = (address && i.ipv4.find((a) => a.address === address)) || i.ipv4[0]!;
    out.push(toDhcpInterface(i, chosen));
  }
  if (address && !out.some((o) => o.address === address)) {
    throw new DhcpInterfaceError(`dhcpAddress ${address} is not an address of ${names.join(', ')} (${describe(host.filter((h) => names.includes(h.name)))})`);
  }
  if (new Set(names).size !== names.length) throw new DhcpInterfaceError(`an interface is named twice in ${names.join(', ')}`);
  return out;
}

function describe(host: HostInterface[]): string {
  return host.map((h) => `${h.name}${h.ipv4.length ? ` ${h.ipv4.map((a) => a.cidr).join(' ')}` : ' (no IPv4)'}`).join(', ') || 'none';
}

/** The interface whose connected subnet holds `ip`, if any. */
export function interfaceFor(interfaces: readonly DhcpInterface[], ip: string): DhcpInterface | undefined {
  return interfaces.find((i) => cidrContains(i.subnet, ip));
}
