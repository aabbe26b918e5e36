/**
 * The simulated fleet in its own process, so the BMCs' event loop does not share a core with the
 * discovery being measured. Talks to the parent over IPC: sends the BMC list, answers `stats`,
 * exits on `close`.
 */
import { startSimulatedFleet } from '../../onprem-agent/redfish/simulator/fleet.js';

const count = Number(process.env.BENCH_BMCS ?? 1000);
const latencyMs = Number(process.env.BENCH_LATENCY_MS ?? 30);
const fleet = await startSimulatedFleet({ count, latencyMs, seed: 'bench' });
process.send!({ type: 'ready', bmcs: fleet.bmcs, username: fleet.username, password: fleet.password });
process.on('message', (m: { type: string }) => {
  if (m.type === 'stats') process.send!({ type: 'stats', stats: fleet.stats(), maxRssKiB: process.resourceUsage().maxRSS });
  if (m.type === 'close') void fleet.close().then(() => process.exit(0));
});
