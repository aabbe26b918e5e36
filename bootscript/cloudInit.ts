/**
 * cloud-init data merge, shared by the cloud (cloudInitFor) and the agent (which serves
 * meta-data/user-data/vendor-data from its snapshot). Pure.
 *
 * - meta-data and vendor-data are JSON objects, deep-merged: objects merge key by key, anything
 *   else (arrays, strings, numbers, null) is replaced whole by the later source.
 * - user-data is opaque text (cloud-config or a script): the most specific source that has it wins
 *   whole; texts are never spliced.
 * - Order: the node's groups from the lexicographically largest label to the smallest (so the
 *   smallest label wins among groups, the same tie-break as boot configuration), then the node.
 */
export interface CloudInitSource {
  /** node:<xname> or group:<label>. */
  scope: string;
  metaData?: unknown;
  userData?: string | null;
  vendorData?: unknown;
}

export interface MergedCloudInit {
  metaData: Record<string, unknown> | null;
  userData: string | null;
  vendorData: Record<string, unknown> | null;
  sources: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isObject(base) || !isObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? deepMerge(base[k], v) : v;
  return out;
}

/** Merges `groups` (any order; sorted here) and then `node` over them. */
export function mergeCloudInit(groups: (CloudInitSource & { group: string })[], node: CloudInitSource | null): MergedCloudInit {
  const ordered: CloudInitSource[] = [...groups].sort((a, b) => (a.group < b.group ? 1 : a.group > b.group ? -1 : 0));
  if (node) ordered.push(node);
  let metaData: unknown = null;
  let vendorData: unknown = null;
  let userData: string | null = null;
  for (const s of ordered) {
    if (s.metaData !== undefined && s.metaData !== null) metaData = metaData === null ? s.metaData : deepMerge(metaData, s.metaData);
    if (s.vendorData !== undefined && s.vendorData !== null) vendorData = vendorData === null ? s.vendorData : deepMerge(vendorData, s.vendorData);
    if (typeof s.userData === 'string') userData = s.userData;
  }
  return {
    metaData: isObject(metaData) ? metaData : null,
    userData,
    vendorData: isObject(vendorData) ? vendorData : null,
    sources: ordered.map((s) => s.scope),
  };
}
