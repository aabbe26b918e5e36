/** TFTP wire format: RFC 1350 packets plus the RFC 2347 OACK. */

export enum TftpOp {
  RRQ = 1,
  WRQ = 2,
  DATA = 3,
  ACK = 4,
  ERROR = 5,
  OACK = 6,
}

export enum TftpErrorCode {
  NotDefined = 0,
  FileNotFound = 1,
  AccessViolation = 2,
  DiskFull = 3,
  IllegalOperation = 4,
  UnknownTid = 5,
  FileExists = 6,
  NoSuchUser = 7,
  OptionRefused = 8,
}

export interface TftpRequest {
  op: TftpOp.RRQ | TftpOp.WRQ;
  filename: string;
  mode: string;
  /** Option names lower-cased (RFC 2347 says they are case-insensitive). */
  options: Map<string, string>;
}

export type TftpPacket =
  | TftpRequest
  | { op: TftpOp.ACK; block: number }
  | { op: TftpOp.DATA; block: number; data: Buffer }
  | { op: TftpOp.ERROR; code: number; message: string }
  | { op: TftpOp.OACK; options: Map<string, string> };

/** Reasons a packet is not understood; the server answers them with ERROR 4. */
export class TftpPacketError extends Error {}

function strings(buf: Buffer, from: number): string[] {
  if (buf.length > from && buf[buf.length - 1] !== 0) throw new TftpPacketError('strings are not NUL-terminated');
  const body = buf.subarray(from, Math.max(from, buf.length - 1));
  return body.length === 0 && buf.length <= from ? [] : body.toString('latin1').split('\0');
}

export function decodeTftp(buf: Buffer): TftpPacket {
  if (buf.length < 2) throw new TftpPacketError('packet shorter than an opcode');
  const op = buf.readUInt16BE(0);
  switch (op) {
    case TftpOp.RRQ:
    case TftpOp.WRQ: {
      const parts = strings(buf, 2);
      if (parts.length < 2 || parts.length % 2 !== 0) throw new TftpPacketError('request needs filename, mode and option name/value pairs');
      const options = new Map<string, string>();
      for (let i = 2; i < parts.length; i += 2) options.set(parts[i]!.toLowerCase(), parts[i + 1]!);
      return { op, filename: parts[0]!, mode: parts[1]!.toLowerCase(), options };
    }
    case TftpOp.ACK:
      if (buf.length < 4) throw new TftpPacketError('ACK shorter than 4 bytes');
      return { op, block: buf.readUInt16BE(2) };
    case TftpOp.DATA:
      if (buf.length < 4) throw new TftpPacketError('DATA shorter than 4 bytes');
      return { op, block: buf.readUInt16BE(2), data: buf.subarray(4) };
    case TftpOp.ERROR: {
      if (buf.length < 4) throw new TftpPacketError('ERROR shorter than 4 bytes');
      const nul = buf.indexOf(0, 4);
      return { op, code: buf.readUInt16BE(2), message: buf.subarray(4, nul === -1 ? buf.length : nul).toString('latin1') };
    }
    case TftpOp.OACK: {
      const parts = strings(buf, 2);
      if (parts.length % 2 !== 0) throw new TftpPacketError('OACK needs option name/value pairs');
      const options = new Map<string, string>();
      for (let i = 0; i < parts.length; i += 2) options.set(parts[i]!.toLowerCase(), parts[i + 1]!);
      return { op, options };
    }
    default:
      throw new TftpPacketError(`unknown opcode ${op}`);
  }
}

export function encodeRequest(op: TftpOp.RRQ | TftpOp.WRQ, filename: string, mode: string, options: Map<string, string> = new Map()): Buffer {
  const fields = [filename, mode, ...[...options].flat()];
  return Buffer.concat([opcode(op), Buffer.from(fields.map((f) => `${f}\0`).join(''), 'latin1')]);
}

function opcode(op: TftpOp): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(op);
  return b;
}

export function encodeAck(block: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(TftpOp.ACK, 0);
  b.writeUInt16BE(block & 0xffff, 2);
  return b;
}

/** A 4-byte DATA header to send in front of a payload slice, so file bytes are not copied. */
export function dataHeader(block: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(TftpOp.DATA, 0);
  b.writeUInt16BE(block & 0xffff, 2);
  return b;
}

export function encodeError(code: TftpErrorCode, message: string): Buffer {
  return Buffer.concat([opcode(TftpOp.ERROR), Buffer.from([code >> 8, code & 0xff]), Buffer.from(`${message}\0`, 'latin1')]);
}

export function encodeOack(options: Map<string, string>): Buffer {
  return Buffer.concat([opcode(TftpOp.OACK), Buffer.from([...options].flat().map((f) => `${f}\0`).join(''), 'latin1')]);
}
