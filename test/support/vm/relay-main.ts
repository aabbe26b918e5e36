/**
 * Relays inside a site namespace: `ip netns exec NS node --import tsx relay-main.ts
 * PORT=SOCKET ...` listens on 127.0.0.1:PORT in the namespace and forwards each connection to
 * the Unix socket SOCKET, which the test serves in the host namespace (see relay.ts). Prints
 * `ready` once every port listens; SIGTERM stops it.
 */
import { startRelay } from './relay.js';

async function main(): Promise<void> {
  const specs = process.argv.slice(2).map((a) => {
    const m = /^(\d+)=(.+)$/.exec(a);
    if (!m) throw new Error(`"${a}" is not PORT=SOCKET`);
    return { port: Number(m[1]), socket: m[2]! };
  });
  if (specs.length === 0) throw new Error('usage: relay-main.ts PORT=SOCKET ...');
  const relays = await Promise.all(specs.map((s) => startRelay({ host: '127.0.0.1', port: s.port }, { path: s.socket })));
  process.stdout.write('ready\n');
  const stop = (): void => {
    void Promise.all(relays.map((r) => r.close())).then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`relay-main: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
