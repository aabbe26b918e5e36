/**
 * A second process acting on a node's power, as `skyboot-agent power` would beside a running
 * agent: argv[2] is JSON { dataDir, endpoints: [xname, target][], username, password, action,
 * xname, confirmTimeoutMs }. Prints the results as one JSON line.
 */
import { CredentialResolver } from '../../../onprem-agent/redfish/credentials.js';
import { powerAction, type EndpointMap, type PowerActionName } from '../../../onprem-agent/redfish/power.js';

const a = JSON.parse(process.argv[2] ?? '{}') as {
  dataDir: string; endpoints: Array<[string, unknown]>; username: string; password: string; action: PowerActionName; xname: string; confirmTimeoutMs: number;
};
const results = await powerAction([a.xname], a.action, {
  dataDir: a.dataDir,
  endpoints: new Map(a.endpoints) as EndpointMap,
  credentials: new CredentialResolver([{ match: '*', username: a.username, password: a.password }], {}),
  confirmTimeoutMs: a.confirmTimeoutMs,
  pollMs: 25,
  actor: 'skyboot-agent power (test child)',
});
process.stdout.write(`${JSON.stringify(results)}\n`);
