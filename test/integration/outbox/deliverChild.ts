/**
 * Child process for the outbox crash test: opens the outbox in argv[2], enqueues argv[4] numbered
 * heartbeats (if any), delivers to the gateway at argv[3] in batches of 4, prints its stats.
 */
import { Outbox } from '../../../onprem-agent/outbox/outbox.js';
import { CloudClient } from '../../../onprem-agent/sync/cloudClient.js';

const [dir, url, count] = process.argv.slice(2);
const outbox = await new Outbox(dir!, new CloudClient({ url: url!, token: process.env.AGENT_TOKEN! }), { batchSize: 4 }).init();
for (let i = 0; i < Number(count ?? 0); i++) await outbox.enqueue('heartbeat', { xname: 'x1000c0s0b0n0', seq: i }, `crash-hb-${i}`);
await outbox.drain();
process.stdout.write(JSON.stringify(await outbox.stats()) + '\n');
