/**
 * Builds the requests PXE firmware and iPXE send. The agent itself never sends them; tests,
 * benchmarks and `skyboot-agent` diagnostics do, so they live beside the codec once.
 */
import { randomBytes } from 'node:crypto';
import { BootOp, type DhcpPacket } from './packet.js';
import { MessageType, Opt, ipBytes } from './options.js';

export interface PxeRequestSpec {
  mac: string;
  type?: MessageType;
  xid?: number;
  /** IANA architecture type (option 93) and the matching option 60; omit both with null. */
  arch?: number | null;
  vendorClass?: string;
  /** Sets option 77 to the bare `iPXE` string and adds option 175, as iPXE does. */
  ipxe?: boolean;
  uuid?: string;
  ciaddr?: string;
  giaddr?: string;
  requestedIp?: string;
  serverId?: string;
  broadcast?: boolean;
}

export function macBytes(mac: string): Buffer {
  return Buffer.from(mac.split(/[:-]/).map((h) => parseInt(h, 16)));
}

export function pxeRequest(spec: PxeRequestSpec): DhcpPacket {
  const options = new Map<number, Buffer>();
  options.set(Opt.MessageType, Buffer.from([spec.type ?? MessageType.Discover]));
  const arch = spec.arch === undefined ? 0 : spec.arch;
  const vendorClass = spec.vendorClass ?? (arch === null ? undefined : `PXEClient:Arch:${String(arch).padStart(5, '0')}:UNDI:003016`);
  if (vendorClass) options.set(Opt.VendorClass, Buffer.from(vendorClass, 'latin1'));
  if (arch !== null) options.set(Opt.ClientArch, Buffer.from([arch >> 8, arch & 0xff]));
  options.set(Opt.ClientNdi, Buffer.from([1, 3, 16]));
  options.set(Opt.ClientUuid, Buffer.concat([Buffer.from([0]), spec.uuid ? Buffer.from(spec.uuid, 'hex') : randomBytes(16)]));
  options.set(Opt.ParameterRequestList, Buffer.from([1, 3, 6, 43, 60, 66, 67, 97, 128, 129, 130]));
  options.set(Opt.MaxMessageSize, Buffer.from([0x05, 0xc0]));
  options.set(Opt.ClientId, Buffer.concat([Buffer.from([1]), macBytes(spec.mac)]));
  if (spec.ipxe) {
    options.set(Opt.UserClass, Buffer.from('iPXE'));
    options.set(Opt.IpxeEncapsulated, Buffer.from([0x13, 1, 1, 0x11, 1, 1]));
  }
  if (spec.requestedIp) options.set(Opt.RequestedIp, ipBytes(spec.requestedIp));
  if (spec.serverId) options.set(Opt.ServerId, ipBytes(spec.serverId));
  return {
    op: BootOp.Request,
    htype: 1,
    hlen: 6,
    hops: spec.giaddr ? 1 : 0,
    xid: spec.xid ?? randomBytes(4).readUInt32BE(0),
    secs: 4,
    flags: spec.broadcast === false ? 0 : 0x8000,
    ciaddr: spec.ciaddr ?? '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: spec.giaddr ?? '0.0.0.0',
    chaddr: macBytes(spec.mac),
    sname: '',
    file: '',
    options,
  };
}
