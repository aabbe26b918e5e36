/**
 * ProxyDHCP load generator, run inside the bench's client namespace: keeps `window`
 * DISCOVERs outstanding against server:67 (unique xid and MAC each), listens on :68 for
 * the broadcast OFFERs, and reports answers per second. A DISCOVER unanswered after
 * `lossMs` is counted lost and replaced, so one drop cannot stall the window.
 * argv[2]: JSON { server, durationMs, window, lossMs }.
 */
import { createSocket } from 'node:dgram';
import { encodePacket } from '../../onprem-agent/pxe/dhcp/packet.js';
import { pxeRequest } from '../../onprem-agent/pxe/dhcp/clientPacket.js';

const { server, durationMs, window, lossMs } = JSON.parse(process.argv[2] ?? '{}') as { server: string; durationMs: number; window: number; lossMs: number };
const sock = createSocket({ type: 'udp4', reuseAddr: true, recvBufferSize: 4 * 2 ** 20 });
const outstanding = new Map<number, number>();
let nextXid = 1;
let sent = 0;
let answered = 0;
let lost = 0;
let measuring = false;
const templates = [0, 7, 9].map((arch) => encodePacket(pxeRequest({ mac: '52:54:00:00:00:00', arch, uuid: '11'.repeat(16) })));

function fire(): void {
  const xid = nextXid++;
  const pkt = Buffer.from(templates[xid % templates.length]!);
  pkt.writeUInt32BE(xid, 4);
  pkt.writeUInt32BE(xid, 30); // a distinct MAC per request, as a rack of nodes would have
  outstanding.set(xid, Date.now());
  sent++;
  sock.send(pkt, 67, server);
}

sock.on('message', (msg) => {
  if (msg.length < 240 || msg[0] !== 2) return;
  const xid = msg.readUInt32BE(4);
  if (!outstanding.delete(xid)) return;
  if (measuring) answered++;
  fire();
});

sock.bind(68, '0.0.0.0', () => {
  sock.setBroadcast(true);
  for (let i = 0; i < window; i++) fire();
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [xid, at] of outstanding) {
      if (now - at < lossMs) continue;
      outstanding.delete(xid);
      if (measuring) lost++;
      fire();
    }
  }, Math.max(10, lossMs / 4));
  // The first second warms the server's JIT and is not counted.
  setTimeout(() => {
    measuring = true;
    const start = process.hrtime.bigint();
    sent = 0;
    setTimeout(() => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      clearInterval(sweep);
      process.stdout.write(`${JSON.stringify({ answered, lost, sent, seconds, answersPerSecond: answered / seconds })}\n`);
      sock.close();
    }, durationMs);
  }, 1000);
});
