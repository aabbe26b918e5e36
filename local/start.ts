/** `npm start`: the whole system on this machine, on embedded local backends. Ctrl-C stops it all. */
import { LOCAL_SITE, startLocalStack } from './stack.js';
import { registerSimulatedSite } from './demoInventory.js';
import { startLocalAgent } from '../onprem-agent/run/localAgent.js';
import { startSimulatedFleet } from '../onprem-agent/redfish/simulator/fleet.js';
import { handler as expireBootSessionClaims } from '../functions/orchestration/claimExpiry.js';

// Lambda runs Node 22; the SDK's warning about this machine's Node 20 is noise locally.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const dataDir = process.env.SKYBOOT_DATA_DIR ?? '.skyboot';
const port = Number(process.env.PORT ?? 4000);
const say = (line: string) => process.stderr.write(`[skyboot] ${line}\n`);

const authPort = Number(process.env.SKYBOOT_AUTH_PORT ?? port + 1);
const stack = await startLocalStack({ dataDir, port, authPort, external: Boolean(process.env.AWS_ENDPOINT_URL), log: say });
const agentHttpPort = Number(process.env.SKYBOOT_AGENT_HTTP_PORT ?? 8080);
const agent = await startLocalAgent(stack, { httpPort: agentHttpPort, tftpPort: Number(process.env.SKYBOOT_AGENT_TFTP_PORT ?? 6969) });
// A small simulated BMC fleet on loopback, so the demo site has something to discover; each
// system's simulated OS boots from the agent after every power-on and heartbeats.
const fleet = await startSimulatedFleet({ count: 4, latencyMs: 5, seed: 'demo', os: { bootFrom: agent.httpUrl, bootDelayMs: 2000 } });
const ranges = fleet.bmcs.map((b) => `http://${b.host}:${b.port}`).join(' --range ');
// A boot session needs each node's address in the inventory (the agent answers a node only from it).
const demo = await registerSimulatedSite(LOCAL_SITE, fleet.bmcs);
say(`GraphQL API and IDE: ${stack.graphqlUrl}   web console: ${stack.url}/console/`);
say(`agent (site local): http://127.0.0.1:${agentHttpPort}/status   boot script: http://127.0.0.1:${agentHttpPort}/boot/v1/bootscript?mac=<MAC>`);
say(`simulated BMCs: ${fleet.bmcs.length} (user ${fleet.username}); discover them with: SKYBOOT_BMC_USERNAME=${fleet.username} SKYBOOT_BMC_PASSWORD=${fleet.password} npx skyboot-agent discover --data-dir ${dataDir}/agent --range ${ranges}`);
say(`simulated nodes, in site ${LOCAL_SITE}'s inventory as COMPUTE with their boot MAC and the address they boot and heartbeat from (their BMCs as Redfish endpoints, so discover names them): ${demo.nodes.map((n) => `${n.xname} ${n.mac} → ${n.ip}`).join(', ')}; their record: http://${fleet.bmcs[0]!.host}:${fleet.bmcs[0]!.port}/simulator/v1/nodes`);
say(`health: ${stack.url}/health`);
say(`dev users (kept in ${stack.dataDir}/auth/secrets.json): ${stack.auth.users.map((u) => `${u.username} / ${u.password}`).join('   ')}`);
say(`agent (site local) client: ${stack.agentClient.clientId}, config ${stack.dataDir}/agent/cloud.json`);
say(`log in (once per profile): npx skyboot login --api ${stack.graphqlUrl} --issuer ${stack.auth.issuer}   then: npx skyboot whoami`);

// The claim-expiry schedule (EventBridge every minute in AWS): same handler, on a timer here.
const CLAIM_EXPIRY_MS = Number(process.env.SKYBOOT_CLAIM_EXPIRY_INTERVAL_SECONDS ?? 30) * 1000;
const claimExpiry = setInterval(() => {
  expireBootSessionClaims().then(
    (r) => r.expired && say(`boot-session claims expired: ${r.expired}`),
    (err: unknown) => say(`claim expiry failed: ${(err as Error).message}`),
  );
}, CLAIM_EXPIRY_MS);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  say(`${signal}: stopping`);
  clearInterval(claimExpiry);
  await fleet.close();
  await agent.stop();
  await stack.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
