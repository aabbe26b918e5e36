/** Our TFTP server as its own process, so the bench's load generator does not share its CPU. */
import { createTftpServer } from '../../onprem-agent/pxe/tftp/server.js';

const [root, maxTransfers] = process.argv.slice(2);
const server = await createTftpServer({ root: root!, address: '127.0.0.1', port: 0, maxTransfers: Number(maxTransfers ?? 1024) });
process.stdout.write(`${server.address().port}\n`);
process.on('SIGTERM', () => {
  process.stderr.write(`${JSON.stringify(server.stats())}\n`);
  void server.close().then(() => process.exit(0));
});
