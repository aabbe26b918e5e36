/**
 * For `skyboot-agent discover` (RedfishCommandDeps.inventoryEndpoints): the Redfish endpoints the
 * cloud inventory knows, read from the stored snapshot, as address → BMC xname.
 */
import { loadSnapshot } from './snapshotStore.js';

export async function inventoryEndpointsFromSnapshot(dataDir: string): Promise<Record<string, string>> {
  const stored = await loadSnapshot(dataDir);
  return Object.fromEntries((stored?.snapshot.redfishEndpoints ?? []).map((e) => [e.address, e.xname]));
}
