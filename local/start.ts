/** `npm start`: the whole system on this machine, on embedded local backends. Ctrl-C stops it all. */
import { startLocalStack } from './stack.js';

// Lambda runs Node 22; the SDK's warning about this machine's Node 20 is noise locally.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const dataDir = process.env.SKYBOOT_DATA_DIR ?? '.skyboot';
const port = Number(process.env.PORT ?? 4000);
const say = (line: string) => process.stderr.write(`[skyboot] ${line}\n`);

const stack = await startLocalStack({ dataDir, port, external: Boolean(process.env.AWS_ENDPOINT_URL), log: say });
say(`GraphQL API and IDE: ${stack.graphqlUrl}`);
say(`health: ${stack.url}/health`);
say(`admin token: ${stack.dataDir}/admin.token   agent token (site local): ${stack.dataDir}/agent.token`);
say(`try: curl -s ${stack.graphqlUrl} -H "authorization: Bearer $(cat ${dataDir}/admin.token)" -H 'content-type: application/json' -d '{"query":"{ whoami { subject roles } sites { name } }"}'`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  say(`${signal}: stopping`);
  await stack.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
