/**
 * DHCP/BOOTP wire format (RFC 2131 header, RFC 2132 options, RFC 3396 long options).
 * Options stay raw bytes here; `options.ts` gives them meaning. Keeping the two apart
 * lets the decoder be small enough to reason about its bounds checks.
 */
import { DhcpPacketError } from './errors.js';

export const MAGIC_COOKIE = 0x63825363;
/** Fixed BOOTP header (236 bytes) plus the magic cookie. */
export const HEADER_LENGTH = 240;
/** RFC 1542: some relays and old clients drop BOOTP messages shorter than 300 bytes. */
export const MIN_PACKET_LENGTH = 300;

export const OPT_PAD = 0;
export const OPT_END = 255;
export const OPT_OVERLOAD = 52;

export enum BootOp {
  Request = 1,
  Reply = 2,
}

export interface DhcpPacket {
  op: BootOp;
  htype: number;
  /** Hardware address length; chaddr holds exactly this many bytes. */
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  chaddr: Buffer;
  sname: string;
  file: string;
  /**
   * Option code → data. Repeated instances of one code are concatenated (RFC 3396), in
   * the order options, file, sname. Pad, end and overload (52) are framing, not kept.
   */
  options: Map<number, Buffer>;
}

function ipAt(buf: Buffer, offset: number): string {
  return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
}

/** A NUL-terminated (or full-width) string field, restricted to printable ASCII. */
function cStringAt(buf: Buffer, offset: number, width: number, field: string): string {
  const raw = buf.subarray(offset, offset + width);
  const nul = raw.indexOf(0);
  const text = raw.subarray(0, nul === -1 ? width : nul);
  for (const b of text) {
    if (b < 0x20 || b > 0x7e) throw new DhcpPacketError(field, `contains a non-printable byte 0x${b.toString(16).padStart(2, '0')}`);
  }
  return text.toString('latin1');
}

/**
 * Walks one option area. `requireEnd` is set for the options field proper: RFC 2131 says
 * it ends with END; the overloaded file/sname fields may simply run out of room.
 */
function readOptionArea(area: Buffer, where: string, requireEnd: boolean, into: Map<number, Buffer[]>): void {
  let i = 0;
  while (i < area.length) {
    const code = area[i]!;
    if (code === OPT_PAD) {
      i += 1;
      continue;
    }
    if (code === OPT_END) return;
    if (i + 1 >= area.length) throw new DhcpPacketError(`${where}[${i}]`, `option ${code} has no length byte`);
    const len = area[i + 1]!;
    const start = i + 2;
    if (start + len > area.length) {
      throw new DhcpPacketError(`${where}[${i}]`, `option ${code} claims ${len} bytes but only ${area.length - start} remain`);
    }
    const list = into.get(code);
    const data = area.subarray(start, start + len);
    if (list) list.push(data);
    else into.set(code, [data]);
    i = start + len;
  }
  if (requireEnd) throw new DhcpPacketError(where, 'option list has no END (255) marker');
}

export function decodePacket(buf: Buffer): DhcpPacket {
  if (!Buffer.isBuffer(buf)) throw new DhcpPacketError('packet', 'not a byte buffer');
  if (buf.length < HEADER_LENGTH) throw new DhcpPacketError('packet', `${buf.length} bytes is shorter than the ${HEADER_LENGTH}-byte DHCP header`);
  const op = buf[0]!;
  if (op !== BootOp.Request && op !== BootOp.Reply) throw new DhcpPacketError('op', `must be 1 (request) or 2 (reply), got ${op}`);
  const hlen = buf[2]!;
  if (hlen > 16) throw new DhcpPacketError('hlen', `hardware address length ${hlen} exceeds the 16-byte chaddr field`);
  if (buf.readUInt32BE(236) !== MAGIC_COOKIE) throw new DhcpPacketError('cookie', 'magic cookie 99.130.83.99 missing (a BOOTP-only packet)');

  const raw = new Map<number, Buffer[]>();
  readOptionArea(buf.subarray(HEADER_LENGTH), 'options', true, raw);
  const overloadParts = raw.get(OPT_OVERLOAD);
  let overload = 0;
  if (overloadParts) {
    const o = Buffer.concat(overloadParts);
    if (o.length !== 1 || o[0]! < 1 || o[0]! > 3) throw new DhcpPacketError('option52', 'overload must be one byte of value 1, 2 or 3');
    overload = o[0]!;
    raw.delete(OPT_OVERLOAD);
    // RFC 2131 order: the file field is read before sname.
    if (overload & 1) readOptionArea(buf.subarray(108, 236), 'file', false, raw);
    if (overload & 2) readOptionArea(buf.subarray(44, 108), 'sname', false, raw);
    raw.delete(OPT_OVERLOAD);
  }

  const options = new Map<number, Buffer>();
  // Single instances are views into the datagram: no copy on the hot path.
  for (const [code, parts] of raw) options.set(code, parts.length === 1 ? parts[0]! : Buffer.concat(parts));
  return {
    op,
    htype: buf[1]!,
    hlen,
    hops: buf[3]!,
    xid: buf.readUInt32BE(4),
    secs: buf.readUInt16BE(8),
    flags: buf.readUInt16BE(10),
    ciaddr: ipAt(buf, 12),
    yiaddr: ipAt(buf, 16),
    siaddr: ipAt(buf, 20),
    giaddr: ipAt(buf, 24),
    chaddr: Buffer.from(buf.subarray(28, 28 + hlen)),
    sname: overload & 2 ? '' : cStringAt(buf, 44, 64, 'sname'),
    file: overload & 1 ? '' : cStringAt(buf, 108, 128, 'file'),
    options,
  };
}

function writeIp(buf: Buffer, offset: number, ip: string, field: string): void {
  // Hand-rolled: this runs four times per reply, on the ProxyDHCP hot path.
  let octet = 0;
  let digits = 0;
  let k = 0;
  for (let i = 0; i <= ip.length; i++) {
    const c = i < ip.length ? ip.charCodeAt(i) : 46;
    if (c >= 48 && c <= 57 && digits < 3) {
      octet = octet * 10 + (c - 48);
      digits++;
    } else if (c === 46 && digits > 0 && octet <= 255 && k < 4) {
      buf[offset + k++] = octet;
      octet = 0;
      digits = 0;
    } else {
      throw new DhcpPacketError(field, `"${ip}" is not an IPv4 address`);
    }
  }
  if (k !== 4) throw new DhcpPacketError(field, `"${ip}" is not an IPv4 address`);
}

function writeCString(buf: Buffer, offset: number, width: number, value: string, field: string): void {
  // One byte is kept for the terminating NUL so that C clients can read the field safely.
  if (value.length === 0) return;
  if (value.length >= width) throw new DhcpPacketError(field, `"${value}" does not fit in ${width - 1} bytes`);
  if (/[^\x20-\x7e]/.test(value)) throw new DhcpPacketError(field, 'must be printable ASCII');
  buf.write(value, offset, 'latin1');
}

/** Encodes without overload: replies that outgrow 576 bytes are still fine for PXE clients. */
export function encodePacket(p: DhcpPacket): Buffer {
  if (p.chaddr.length !== p.hlen || p.hlen > 16) throw new DhcpPacketError('chaddr', `must hold hlen (${p.hlen}) bytes, at most 16`);
  // Size first, then one allocation: replies are encoded per request on the hot path.
  let optLength = 1; // END
  for (const [code, data] of p.options) {
    if (!Number.isInteger(code) || code <= OPT_PAD || code >= OPT_END || code === OPT_OVERLOAD) {
      throw new DhcpPacketError(`option${code}`, 'is framing (pad, end, overload) or out of range, not an encodable option');
    }
    // RFC 3396: data longer than 255 bytes is split across repeated instances.
    optLength += data.length + 2 * Math.max(1, Math.ceil(data.length / 255));
  }
  const out = Buffer.alloc(Math.max(MIN_PACKET_LENGTH, HEADER_LENGTH + optLength));
  let at = HEADER_LENGTH;
  for (const [code, data] of p.options) {
    if (data.length === 0) {
      out[at++] = code;
      out[at++] = 0;
    }
    for (let off = 0; off < data.length; off += 255) {
      const n = Math.min(255, data.length - off);
      out[at++] = code;
      out[at++] = n;
      data.copy(out, at, off, off + n);
      at += n;
    }
  }
  out[at] = OPT_END;
  out[0] = p.op;
  out[1] = p.htype;
  out[2] = p.hlen;
  out[3] = p.hops;
  out.writeUInt32BE(p.xid >>> 0, 4);
  out.writeUInt16BE(p.secs, 8);
  out.writeUInt16BE(p.flags, 10);
  writeIp(out, 12, p.ciaddr, 'ciaddr');
  writeIp(out, 16, p.yiaddr, 'yiaddr');
  writeIp(out, 20, p.siaddr, 'siaddr');
  writeIp(out, 24, p.giaddr, 'giaddr');
  p.chaddr.copy(out, 28);
  writeCString(out, 44, 64, p.sname, 'sname');
  writeCString(out, 108, 128, p.file, 'file');
  out.writeUInt32BE(MAGIC_COOKIE, 236);
  return out;
}

/** The hardware address as lower-case colon hex, the form every MAC lookup uses. */
export function macOf(p: DhcpPacket): string {
  return [...p.chaddr].map((b) => b.toString(16).padStart(2, '0')).join(':');
}
