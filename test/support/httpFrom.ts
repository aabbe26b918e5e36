/** Requests from a node's own source address: the simulated OS's client, shared with tests. */
export { httpFrom, type ResponseFrom } from '../../onprem-agent/redfish/simulator/httpFrom.js';
