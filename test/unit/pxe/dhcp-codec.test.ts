import { BootOp, decodePacket, encodePacket, HEADER_LENGTH, MAGIC_COOKIE, type DhcpPacket } from '../../../onprem-agent/pxe/dhcp/packet.js';
import { DhcpPacketError } from '../../../onprem-agent/pxe/dhcp/errors.js';
import {
  clientArchitectures, clientId, clientNdi, clientUuid, decodeSubOptions, encodeSubOptions, messageType,
  MessageType, Opt, parameterRequestList, stringOption, userClasses,
} from '../../../onprem-agent/pxe/dhcp/options.js';
import { pxeRequest } from '../../../onprem-agent/pxe/dhcp/clientPacket.js';
import { bytes, int, seeded } from './random.js';

function ip(rand: () => number): string {
  return [0, 0, 0, 0].map(() => int(rand, 0, 255)).join('.');
}

function printable(rand: () => number, max: number): string {
  let s = '';
  const n = int(rand, 0, max);
  for (let i = 0; i < n; i++) s += String.fromCharCode(int(rand, 0x20, 0x7e));
  return s;
}

function randomPacket(rand: () => number): DhcpPacket {
  const hlen = int(rand, 0, 16);
  const options = new Map<number, Buffer>();
  const n = int(rand, 0, 12);
  for (let i = 0; i < n; i++) {
    let code = int(rand, 1, 254);
    if (code === 52) code = 53;
    // Lengths past 255 exercise the RFC 3396 split and rejoin.
    options.set(code, bytes(rand, rand() < 0.1 ? int(rand, 256, 700) : int(rand, 0, 40)));
  }
  return {
    op: rand() < 0.5 ? BootOp.Request : BootOp.Reply,
    htype: int(rand, 0, 255), hlen, hops: int(rand, 0, 255),
    xid: int(rand, 0, 0xffffffff), secs: int(rand, 0, 0xffff), flags: int(rand, 0, 0xffff),
    ciaddr: ip(rand), yiaddr: ip(rand), siaddr: ip(rand), giaddr: ip(rand),
    chaddr: bytes(rand, hlen), sname: printable(rand, 63), file: printable(rand, 127), options,
  };
}

/** Decodes, and fails the test on any exception other than the codec's own. */
function decodeOrTyped(buf: Buffer, seed: number): DhcpPacket | DhcpPacketError {
  try {
    const p = decodePacket(buf);
    // Readers must hold to the same promise on whatever the decoder let through.
    for (const read of [messageType, clientArchitectures, clientNdi, clientUuid, clientId, userClasses]) read(p);
    const vendor = p.options.get(Opt.VendorSpecific);
    if (vendor) decodeSubOptions(vendor, 'option43');
    return p;
  } catch (err) {
    if (err instanceof DhcpPacketError) return err;
    throw new Error(`seed ${seed}: untyped ${String(err)} for ${buf.toString("hex")}`, { cause: err });
  }
}

describe('DHCP codec', () => {
  it('round-trips 2000 random packets, including options longer than 255 bytes', () => {
    const mismatches: number[] = [];
    for (let seed = 1; seed <= 2000; seed++) {
      const p = randomPacket(seeded(seed));
      const wire = encodePacket(p);
      const back = decodePacket(wire);
      // Deep-compare a sample with Jest (slow) and the rest by re-encoding, byte for byte.
      if (seed % 100 === 0) expect(back).toEqual(p);
      if (wire.length < 300 || !encodePacket(back).equals(wire) || back.options.size !== p.options.size) mismatches.push(seed);
    }
    expect(mismatches).toEqual([]);
  });

  it('decodes a PXE DISCOVER as firmware sends it', () => {
    const p = decodePacket(encodePacket(pxeRequest({ mac: '52:54:00:12:34:56', arch: 7, uuid: '00112233445566778899aabbccddeeff', ipxe: true })));
    expect(messageType(p)).toBe(MessageType.Discover);
    expect(stringOption(p, Opt.VendorClass)).toBe('PXEClient:Arch:00007:UNDI:003016');
    expect(clientArchitectures(p)).toEqual([7]);
    expect(clientNdi(p)).toEqual({ type: 1, major: 3, minor: 16 });
    expect(clientUuid(p)).toBe('00112233445566778899aabbccddeeff');
    expect(clientId(p)?.id.toString('hex')).toBe('525400123456');
    expect(userClasses(p)).toEqual(['iPXE']);
    expect(p.options.has(Opt.IpxeEncapsulated)).toBe(true);
    expect(parameterRequestList(p)).toContain(67);
  });

  it('reads RFC 3004 framed user classes and the bare iPXE string', () => {
    const p = pxeRequest({ mac: '00:00:00:00:00:01' });
    p.options.set(Opt.UserClass, Buffer.from([4, ...Buffer.from('iPXE'), 3, ...Buffer.from('abc')]));
    expect(userClasses(p)).toEqual(['iPXE', 'abc']);
    p.options.set(Opt.UserClass, Buffer.from('iPXE'));
    expect(userClasses(p)).toEqual(['iPXE']);
  });

  it('reads options from overloaded file and sname fields, file first', () => {
    const wire = encodePacket(pxeRequest({ mac: '00:00:00:00:00:02' }));
    // Put option 52 = 3 at the start of the options, move option 67 into file and 66 into sname.
    const buf = Buffer.alloc(wire.length + 3);
    wire.copy(buf, 0, 0, HEADER_LENGTH);
    Buffer.from([52, 1, 3]).copy(buf, HEADER_LENGTH);
    wire.copy(buf, HEADER_LENGTH + 3, HEADER_LENGTH);
    buf.fill(0, 44, 236);
    Buffer.from([67, 4, ...Buffer.from('a.ef'), 12, 1, 0x41, 255]).copy(buf, 108);
    Buffer.from([66, 3, ...Buffer.from('srv'), 12, 1, 0x42, 255]).copy(buf, 44);
    const p = decodePacket(buf);
    expect(p.file).toBe('');
    expect(p.sname).toBe('');
    expect(stringOption(p, 67)).toBe('a.ef');
    expect(stringOption(p, 66)).toBe('srv');
    expect(p.options.get(12)?.toString()).toBe('AB');
    expect(p.options.has(52)).toBe(false);
  });

  it('encodes and decodes PXE vendor sub-options (option 43)', () => {
    const subs = new Map([[6, Buffer.from([8])], [71, Buffer.from([0x80, 0, 0, 0])]]);
    expect(decodeSubOptions(encodeSubOptions(subs), 'option43')).toEqual(subs);
  });

  it.each([
    ['too short', Buffer.alloc(100), 'shorter than'],
    ['bad op', (() => { const b = encodePacket(pxeRequest({ mac: '00:00:00:00:00:03' })); b[0] = 7; return b; })(), 'op'],
    ['hlen > 16', (() => { const b = encodePacket(pxeRequest({ mac: '00:00:00:00:00:03' })); b[2] = 17; return b; })(), 'hlen'],
    ['no cookie', (() => { const b = encodePacket(pxeRequest({ mac: '00:00:00:00:00:03' })); b.writeUInt32BE(0, 236); return b; })(), 'cookie'],
    ['truncated option', (() => { const b = Buffer.alloc(HEADER_LENGTH + 3); b[0] = 1; b.writeUInt32BE(MAGIC_COOKIE, 236); b[240] = 12; b[241] = 9; return b; })(), 'claims 9 bytes'],
    ['no END', (() => { const b = Buffer.alloc(HEADER_LENGTH + 3); b[0] = 1; b.writeUInt32BE(MAGIC_COOKIE, 236); b[240] = 12; b[241] = 1; return b; })(), 'END'],
    ['bad overload', (() => { const b = Buffer.alloc(HEADER_LENGTH + 4); b[0] = 1; b.writeUInt32BE(MAGIC_COOKIE, 236); b.set([52, 1, 9, 255], 240); return b; })(), 'overload'],
  ])('rejects a malformed packet (%s) with a DhcpPacketError naming the problem', (_name, buf, reason) => {
    expect(() => decodePacket(buf)).toThrow(DhcpPacketError);
    expect(() => decodePacket(buf)).toThrow(reason);
  });

  it('fuzz: 5000 random buffers and 15000 mutated packets only ever fail with DhcpPacketError', () => {
    let decoded = 0;
    let rejected = 0;
    for (let seed = 1; seed <= 5000; seed++) {
      const rand = seeded(seed);
      const buf = bytes(rand, int(rand, 0, 600));
      // Half keep a valid header and cookie so the fuzz reaches the option walker.
      if (rand() < 0.5 && buf.length >= HEADER_LENGTH) { buf[0] = 1; buf[2] = int(rand, 0, 16); buf.writeUInt32BE(MAGIC_COOKIE, 236); }
      if (decodeOrTyped(buf, seed) instanceof DhcpPacketError) rejected++; else decoded++;
    }
    const bases = Array.from({ length: 200 }, (_, k) => {
      const rand = seeded(k + 100000);
      return encodePacket(k % 2 ? pxeRequest({ mac: '52:54:00:aa:bb:cc', arch: k % 42, ipxe: k % 4 === 1, uuid: '00'.repeat(16) }) : randomPacket(rand));
    });
    for (let seed = 1; seed <= 15000; seed++) {
      const rand = seeded(seed * 7919);
      let buf = Buffer.from(bases[seed % bases.length]!);
      const edits = int(rand, 1, 8);
      for (let e = 0; e < edits; e++) {
        const r = rand();
        if (r < 0.6) buf[int(rand, 0, buf.length - 1)] = int(rand, 0, 255);
        else if (r < 0.8) buf = buf.subarray(0, int(rand, 0, buf.length));
        else buf = Buffer.concat([buf, bytes(rand, int(rand, 1, 30))]);
        if (buf.length === 0) break;
      }
      if (decodeOrTyped(buf, seed) instanceof DhcpPacketError) rejected++; else decoded++;
    }
    // Both outcomes must occur, or the fuzz is not reaching the decoder's interesting paths.
    expect(decoded).toBeGreaterThan(1000);
    expect(rejected).toBeGreaterThan(1000);
  });
});
