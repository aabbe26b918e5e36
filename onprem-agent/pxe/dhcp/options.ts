/**
 * Meaning for the raw option bytes of `packet.ts`: the option codes PXE booting depends on,
 * with readers that validate lengths (throwing DhcpPacketError) and writers for replies.
 */
import { DhcpPacketError } from './errors.js';
import type { DhcpPacket } from './packet.js';

export const Opt = {
  SubnetMask: 1,
  Router: 3,
  DnsServers: 6,
  HostName: 12,
  DomainName: 15,
  BroadcastAddress: 28,
  VendorSpecific: 43,
  RequestedIp: 50,
  LeaseTime: 51,
  MessageType: 53,
  ServerId: 54,
  ParameterRequestList: 55,
  Message: 56,
  MaxMessageSize: 57,
  RenewalTime: 58,
  RebindingTime: 59,
  VendorClass: 60,
  ClientId: 61,
  TftpServerName: 66,
  BootFileName: 67,
  UserClass: 77,
  ClientArch: 93,
  ClientNdi: 94,
  ClientUuid: 97,
  IpxeEncapsulated: 175,
} as const;

export enum MessageType {
  Discover = 1,
  Offer = 2,
  Request = 3,
  Decline = 4,
  Ack = 5,
  Nak = 6,
  Release = 7,
  Inform = 8,
}

/** PXE vendor sub-options carried in option 43 when option 60 is `PXEClient` (PXE spec 2.1). */
export const PxeSub = {
  DiscoveryControl: 6,
  BootServers: 8,
  BootMenu: 9,
  MenuPrompt: 10,
  BootItem: 71,
} as const;

function exactLength(p: DhcpPacket, code: number, allowed: (n: number) => boolean, what: string): Buffer | undefined {
  const data = p.options.get(code);
  if (data === undefined) return undefined;
  if (!allowed(data.length)) throw new DhcpPacketError(`option${code}`, `${data.length} bytes is not a valid length for ${what}`);
  return data;
}

export function messageType(p: DhcpPacket): MessageType | undefined {
  const d = exactLength(p, Opt.MessageType, (n) => n === 1, 'the message type');
  if (d === undefined) return undefined;
  const t = d[0]!;
  if (t < 1 || t > 18) throw new DhcpPacketError('option53', `message type ${t} is not defined`);
  return t as MessageType;
}

export function ipOption(p: DhcpPacket, code: number): string | undefined {
  const d = exactLength(p, code, (n) => n === 4, 'an IPv4 address');
  return d === undefined ? undefined : `${d[0]}.${d[1]}.${d[2]}.${d[3]}`;
}

export function ipListOption(p: DhcpPacket, code: number): string[] | undefined {
  const d = exactLength(p, code, (n) => n > 0 && n % 4 === 0, 'a list of IPv4 addresses');
  if (d === undefined) return undefined;
  const out: string[] = [];
  for (let i = 0; i < d.length; i += 4) out.push(`${d[i]}.${d[i + 1]}.${d[i + 2]}.${d[i + 3]}`);
  return out;
}

export function uint32Option(p: DhcpPacket, code: number): number | undefined {
  return exactLength(p, code, (n) => n === 4, 'a 32-bit number')?.readUInt32BE(0);
}

export function uint16Option(p: DhcpPacket, code: number): number | undefined {
  return exactLength(p, code, (n) => n === 2, 'a 16-bit number')?.readUInt16BE(0);
}

export function stringOption(p: DhcpPacket, code: number): string | undefined {
  const d = p.options.get(code);
  if (d === undefined) return undefined;
  // Clients pad some strings with trailing NULs; the value ends at the first one.
  const nul = d.indexOf(0);
  return d.subarray(0, nul === -1 ? d.length : nul).toString('latin1');
}

export function parameterRequestList(p: DhcpPacket): number[] {
  return [...(p.options.get(Opt.ParameterRequestList) ?? [])];
}

/** Option 93 (RFC 4578): one or more 16-bit IANA processor architecture types. */
export function clientArchitectures(p: DhcpPacket): number[] | undefined {
  const d = exactLength(p, Opt.ClientArch, (n) => n > 0 && n % 2 === 0, 'client architecture types');
  if (d === undefined) return undefined;
  const out: number[] = [];
  for (let i = 0; i < d.length; i += 2) out.push(d.readUInt16BE(i));
  return out;
}

export interface ClientNdi {
  type: number;
  major: number;
  minor: number;
}

/** Option 94 (RFC 4578): network interface identifier, type 1 = UNDI. */
export function clientNdi(p: DhcpPacket): ClientNdi | undefined {
  const d = exactLength(p, Opt.ClientNdi, (n) => n === 3, 'the client network interface identifier');
  return d === undefined ? undefined : { type: d[0]!, major: d[1]!, minor: d[2]! };
}

/** Option 97 (RFC 4578): type 0 followed by a 16-byte GUID, as lower-case hex. */
export function clientUuid(p: DhcpPacket): string | undefined {
  const d = exactLength(p, Opt.ClientUuid, (n) => n === 17, 'the client machine identifier');
  if (d === undefined) return undefined;
  if (d[0] !== 0) throw new DhcpPacketError('option97', `identifier type ${d[0]} is not 0 (GUID)`);
  return d.subarray(1).toString('hex');
}

export interface ClientId {
  type: number;
  id: Buffer;
}

/** Option 61: hardware type (1 = Ethernet) then the identifier; at least 2 bytes. */
export function clientId(p: DhcpPacket): ClientId | undefined {
  const d = exactLength(p, Opt.ClientId, (n) => n >= 2, 'a client identifier');
  return d === undefined ? undefined : { type: d[0]!, id: Buffer.from(d.subarray(1)) };
}

/**
 * Option 77. RFC 3004 frames each class with a length byte, but iPXE and most PXE stacks
 * send the bare string `iPXE`; a value that does not parse exactly as RFC 3004 is one class.
 */
export function userClasses(p: DhcpPacket): string[] | undefined {
  const d = p.options.get(Opt.UserClass);
  if (d === undefined) return undefined;
  const framed: string[] = [];
  let i = 0;
  while (i < d.length) {
    const len = d[i]!;
    if (len === 0 || i + 1 + len > d.length) break;
    framed.push(d.subarray(i + 1, i + 1 + len).toString('latin1'));
    i += 1 + len;
  }
  if (i === d.length && framed.length > 0) return framed;
  return [d.toString('latin1')];
}

/** Sub-options of an encapsulated option (43, 175): code, length, data; same framing. */
export function decodeSubOptions(data: Buffer, field: string): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let i = 0;
  while (i < data.length) {
    const code = data[i]!;
    if (code === 0) { i += 1; continue; }
    if (code === 255) break;
    if (i + 1 >= data.length) throw new DhcpPacketError(field, `sub-option ${code} has no length byte`);
    const len = data[i + 1]!;
    if (i + 2 + len > data.length) throw new DhcpPacketError(field, `sub-option ${code} claims ${len} bytes but only ${data.length - i - 2} remain`);
    const prev = out.get(code);
    const chunk = data.subarray(i + 2, i + 2 + len);
    out.set(code, prev ? Buffer.concat([prev, chunk]) : Buffer.from(chunk));
    i += 2 + len;
  }
  return out;
}

export function encodeSubOptions(subs: Map<number, Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const [code, data] of subs) {
    if (code <= 0 || code >= 255 || data.length > 255) throw new DhcpPacketError(`sub-option${code}`, 'code must be 1-254 and data at most 255 bytes');
    parts.push(Buffer.from([code, data.length]), data);
  }
  parts.push(Buffer.from([255]));
  return Buffer.concat(parts);
}

export function ipBytes(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number));
}

export function uint32Bytes(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}
