/** What changed between two discovery reports, so re-discovery updates in place and says how. */
import type { DiscoveryReport, ReportChanges } from './types.js';

type Snapshot = Map<string, Record<string, unknown>>;

function snapshot(r: DiscoveryReport): Snapshot {
  const out: Snapshot = new Map();
  for (const e of r.redfishEndpoints) {
    out.set(e.xname, {
      address: `${e.scheme}://${e.host}:${e.port}`, vendor: e.vendor, redfishVersion: e.redfishVersion, uuid: e.uuid,
      firmware: e.managers.map((m) => m.firmwareVersion), tlsFingerprint: e.tlsFingerprint,
    });
  }
  for (const h of r.hardware) {
    out.set(h.xname, {
      uuid: h.uuid, serial: h.serial, model: h.model, biosVersion: h.biosVersion, powerState: h.powerState,
      bootMode: h.boot.mode, processors: h.processors.length, memory: h.memory.length, totalMemoryGiB: h.totalMemoryGiB,
      gpus: h.gpus.length, systemPath: h.systemPath,
    });
  }
  for (const i of r.interfaces) {
    const owner = out.get(i.ownerXName);
    if (owner) owner.macs = [...((owner.macs as string[] | undefined) ?? []), i.mac].sort();
  }
  return out;
}

export function diffReports(previous: DiscoveryReport, current: DiscoveryReport): ReportChanges {
  const before = snapshot(previous);
  const after = snapshot(current);
  const added = [...after.keys()].filter((x) => !before.has(x)).sort();
  // A BMC that did not answer this time is unreachable, not removed; only absence from an
  // answering BMC removes a node.
  const unanswered = new Set(current.unreachable.map((u) => `${u.host}:${u.port}`));
  const silentBmcs = new Set(previous.redfishEndpoints.filter((e) => unanswered.has(`${e.host}:${e.port}`)).map((e) => e.xname));
  const removed = [...before.keys()].filter((x) => !after.has(x) && ![...silentBmcs].some((b) => x === b || x.startsWith(`${b}n`))).sort();
  const modified: ReportChanges['modified'] = [];
  for (const [x, now] of after) {
    const then = before.get(x);
    if (!then) continue;
    const fields = Object.keys({ ...then, ...now }).filter((k) => JSON.stringify(then[k]) !== JSON.stringify(now[k])).sort();
    if (fields.length > 0) modified.push({ xname: x, fields });
  }
  const macsBefore = new Set(previous.interfaces.map((i) => i.mac));
  const macsAfter = new Set(current.interfaces.map((i) => i.mac));
  return {
    added,
    removed,
    modified,
    macsAdded: [...macsAfter].filter((m) => !macsBefore.has(m)).sort(),
    macsRemoved: [...macsBefore].filter((m) => !macsAfter.has(m)).sort(),
  };
}
