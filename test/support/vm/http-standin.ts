/**
 * A stand-in for the agent's HTTP server, for the harness self-test: serves files from a
 * directory and appends every `POST /heartbeat` body to a JSON-lines file. Runs inside the
 * site's namespace: `ip netns exec NS node --import tsx http-standin.ts ROOT PORT HEARTBEATS`.
 * It prints "listening <port>" once ready.
 */
import { createReadStream, appendFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, normalize } from 'node:path';

const [root, portText, heartbeats] = process.argv.slice(2);
if (!root || !portText || !heartbeats) {
  process.stderr.write('usage: http-standin.ts ROOT PORT HEARTBEATS_FILE\n');
  process.exit(2);
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  process.stderr.write(`${req.method} ${url.pathname}\n`);
  if (req.method === 'POST' && url.pathname === '/heartbeat') {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      appendFileSync(heartbeats, JSON.stringify({ at: new Date().toISOString(), from: req.socket.remoteAddress, body: Buffer.concat(chunks).toString('utf8') }) + '\n');
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}\n');
    });
    return;
  }
  const rel = normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.(\/|$))+/, '');
  const file = join(root, rel);
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new Error('not a file');
    res.writeHead(200, { 'content-length': st.size });
    createReadStream(file).pipe(res);
  } catch {
    res.writeHead(404).end('not found\n');
  }
});
server.listen(Number(portText), '0.0.0.0', () => {
  const addr = server.address();
  process.stdout.write(`listening ${typeof addr === 'object' && addr ? addr.port : portText}\n`);
});
