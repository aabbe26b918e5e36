/**
 * The agent's configuration: one JSON file (--config or SKYBOOT_AGENT_CONFIG), environment
 * variables (SKYBOOT_AGENT_<KEY>, e.g. SKYBOOT_AGENT_DATA_DIR) and CLI flags, in rising
 * precedence. The file's keys are the flags' names in camelCase (docs/agent.md lists them).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BadUserInputError } from '../schema/errors.js';
import { DHCP_MODES, ISCSI_MODES } from '../schema/agentStatus.js';
import { parseWorkloadConfig, type WorkloadConfig } from './orchestrator/workload/workloadConfig.js';

// The modes are part of what the agent reports about itself (schema/agentStatus.ts), so they live there.
export { DHCP_MODES, ISCSI_MODES };
export const ISCSI_CHAP_MODES = ['off', 'one-way', 'mutual'] as const;
export type DhcpMode = (typeof DHCP_MODES)[number];
export type IscsiMode = (typeof ISCSI_MODES)[number];
export type IscsiChapMode = (typeof ISCSI_CHAP_MODES)[number];

export interface HostPort {
  address: string;
  port: number;
}

export interface AgentConfig {
  /** Gateway URL (http://host:4000 or .../graphql); null runs from the stored snapshot only. */
  cloud: string | null;
  tokenFile: string | null;
  /** OAuth 2.0 client credentials for the cloud (preferred over tokenFile); null without. */
  clientCredentials: { tokenEndpoint: string; clientId: string; clientSecretFile: string; scope: string | null } | null;
  dataDir: string;
  http: HostPort;
  /** What nodes use to reach the HTTP server (boot-script URLs); default: the Host header. */
  advertiseUrl: string | null;
  tftp: HostPort | null;
  tftpRoot: string | null;
  /** Processes serving TFTP transfers under `run` (pxe/tftp/tftpProcess.ts); null: one per CPU. */
  tftpWorkers: number | null;
  /** `interfaces`: the boot NICs replies leave from (empty: the one holding `address`). */
  dhcp: { mode: DhcpMode; address: string | null; interfaces: string[]; subnet: string | null; range: string | null; router: string | null };
  /** chap: per-node CHAP on the exports and in the nodes' boot scripts (docs/iscsi.md). */
  iscsi: { mode: IscsiMode; portals: string[]; tgtControlPort: number | null; chap: IscsiChapMode };
  syncIntervalMs: number;
  /** Bytes pending observations may take before enqueue refuses (OutboxFullError). */
  outboxMaxBytes: number;
  /** What the rollout asks whether a node is busy: none (manual holds), exec (a site command), slurm. */
  workload: WorkloadConfig;
}

/** Raw values as they come from any source (strings from env/flags, JSON types from the file). */
export type RawConfig = Partial<Record<keyof typeof KEYS, unknown>>;

/** camelCase key → the flag that sets it. */
export const KEYS = {
  cloud: '--cloud',
  tokenFile: '--token-file',
  tokenEndpoint: '--token-endpoint',
  clientId: '--client-id',
  clientSecretFile: '--client-secret-file',
  scope: '--scope',
  dataDir: '--data-dir',
  http: '--http',
  advertiseUrl: '--advertise-url',
  tftp: '--tftp',
  tftpRoot: '--tftp-root',
  tftpWorkers: '--tftp-workers',
  dhcp: '--dhcp',
  dhcpAddress: '--dhcp-address',
  dhcpInterface: '--dhcp-interface',
  dhcpSubnet: '--dhcp-subnet',
  dhcpRange: '--dhcp-range',
  dhcpRouter: '--dhcp-router',
  iscsi: '--iscsi',
  iscsiPortal: '--iscsi-portal',
  tgtControlPort: '--tgt-control-port',
  iscsiChap: '--iscsi-chap',
  syncInterval: '--sync-interval',
  outboxMaxMb: '--outbox-max-mb',
  /** A kind, or in the file / env (JSON) an object { kind, …options }: workloadConfig.ts. */
  workload: '--workload',
} as const;

/** The one default of every subcommand: the systemd unit's StateDirectory (deploy/skyboot-agent.service). */
export const DEFAULT_DATA_DIR = '/var/lib/skyboot-agent';

/** The `--data-dir` help of every subcommand that has one, so they cannot disagree again. */
export const DATA_DIR_HELP = `agent state: snapshot, artifact cache, outbox, discovery (default: $SKYBOOT_AGENT_DATA_DIR, else the config file's dataDir, else ${DEFAULT_DATA_DIR})`;

/** Keys whose env value is a comma-separated list. */
const LIST_KEYS = new Set<keyof typeof KEYS>(['iscsiPortal', 'dhcpInterface']);

const envName = (k: string) => `SKYBOOT_AGENT_${k.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

export function fromEnv(env: NodeJS.ProcessEnv = process.env): RawConfig {
  const out: RawConfig = {};
  for (const k of Object.keys(KEYS) as (keyof typeof KEYS)[]) {
    const v = env[envName(k)];
    if (v !== undefined && v !== '') out[k] = LIST_KEYS.has(k) ? v.split(',').map((s) => s.trim()).filter(Boolean) : v;
  }
  return out;
}

export function fromFile(path: string): RawConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new BadUserInputError('config', `${path}: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BadUserInputError('config', `${path}: expected a JSON object`);
  const unknown = Object.keys(parsed).filter((k) => !(k in KEYS));
  if (unknown.length) throw new BadUserInputError('config', `${path}: unknown key(s) ${unknown.join(', ')}; known: ${Object.keys(KEYS).join(', ')}`);
  return parsed as RawConfig;
}

export function parseHostPort(raw: string, field: string, defaultPort?: number): HostPort {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(raw.trim());
  if (!m || (m[2] === undefined && defaultPort === undefined)) throw new BadUserInputError(field, `"${raw}" is not ADDR:PORT`);
  const port = m[2] === undefined ? defaultPort! : Number(m[2]);
  if (port > 65535) throw new BadUserInputError(field, `port ${port} is above 65535`);
  return { address: m[1]!.replace(/^\[|\]$/g, ''), port };
}

const str = (v: unknown, field: string): string | null => {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string') throw new BadUserInputError(field, 'must be a string');
  return v;
};

function oneOf<T extends string>(v: unknown, allowed: readonly T[], fallback: T, field: string): T {
  const s = str(v, field);
  if (s === null) return fallback;
  if (!(allowed as readonly string[]).includes(s)) throw new BadUserInputError(field, `"${s}" is not one of ${allowed.join(', ')}`);
  return s as T;
}

/** All three of tokenEndpoint, clientId and clientSecretFile, or none. */
function clientCredentials(raw: RawConfig): AgentConfig['clientCredentials'] {
  const tokenEndpoint = str(raw.tokenEndpoint, 'tokenEndpoint');
  const clientId = str(raw.clientId, 'clientId');
  const secretFile = str(raw.clientSecretFile, 'clientSecretFile');
  const scope = str(raw.scope, 'scope');
  if (!tokenEndpoint && !clientId && !secretFile) {
    if (scope) throw new BadUserInputError('scope', '--scope is for client credentials: give --token-endpoint, --client-id and --client-secret-file too');
    return null;
  }
  const missing = (['tokenEndpoint', 'clientId', 'clientSecretFile'] as const).filter((k) => !str(raw[k], k));
  if (missing.length) throw new BadUserInputError(missing[0]!, `client credentials need ${missing.map((k) => KEYS[k]).join(', ')} as well`);
  let url: URL;
  try {
    url = new URL(tokenEndpoint!);
  } catch {
    throw new BadUserInputError('tokenEndpoint', `"${tokenEndpoint}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new BadUserInputError('tokenEndpoint', `"${tokenEndpoint}" is not an http(s) URL`);
  return { tokenEndpoint: url.toString(), clientId: clientId!, clientSecretFile: resolve(secretFile!), scope };
}

/** Later sources win; an undefined value (a flag not given) does not hide an earlier one. */
function merge(sources: RawConfig[]): RawConfig {
  return Object.assign({}, ...sources.map((s) => Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined))));
}

function dataDirOf(raw: RawConfig): string {
  return resolve(str(raw.dataDir, 'dataDir') ?? DEFAULT_DATA_DIR);
}

/** Merges sources (later wins) and validates. */
export function resolveConfig(...sources: RawConfig[]): AgentConfig {
  const raw = merge(sources);
  const dhcpMode = oneOf(raw.dhcp, DHCP_MODES, 'off', 'dhcp');
  const dhcpAddress = str(raw.dhcpAddress, 'dhcpAddress');
  const dhcpInterfaces = raw.dhcpInterface === undefined ? [] : (Array.isArray(raw.dhcpInterface) ? raw.dhcpInterface : String(raw.dhcpInterface).split(',')).map((s) => String(s).trim()).filter(Boolean);
  if (dhcpMode !== 'off' && !dhcpAddress && dhcpInterfaces.length === 0) throw new BadUserInputError('dhcpInterface', `--dhcp ${dhcpMode} needs --dhcp-interface (the boot NIC replies leave from) or --dhcp-address (an address of it)`);
  if (dhcpMode === 'full' && !str(raw.dhcpSubnet, 'dhcpSubnet')) throw new BadUserInputError('dhcpSubnet', '--dhcp full needs --dhcp-subnet');
  const tftp = str(raw.tftp, 'tftp');
  const portals = raw.iscsiPortal === undefined ? [] : Array.isArray(raw.iscsiPortal) ? raw.iscsiPortal.map(String) : [String(raw.iscsiPortal)];
  const interval = raw.syncInterval === undefined ? 30 : Number(raw.syncInterval);
  if (!Number.isFinite(interval) || interval <= 0) throw new BadUserInputError('syncInterval', `"${String(raw.syncInterval)}" is not a positive number of seconds`);
  const outboxMaxMb = raw.outboxMaxMb === undefined ? 256 : Number(raw.outboxMaxMb);
  if (!Number.isFinite(outboxMaxMb) || outboxMaxMb <= 0) throw new BadUserInputError('outboxMaxMb', `"${String(raw.outboxMaxMb)}" is not a positive number of MiB`);
  const tftpWorkers = raw.tftpWorkers === undefined || raw.tftpWorkers === null || raw.tftpWorkers === '' ? null : Number(raw.tftpWorkers);
  if (tftpWorkers !== null && !(Number.isInteger(tftpWorkers) && tftpWorkers >= 1 && tftpWorkers <= 256)) throw new BadUserInputError('tftpWorkers', `"${String(raw.tftpWorkers)}" is not a whole number of processes from 1 to 256`);
  const tgtPort = raw.tgtControlPort === undefined ? null : Number(raw.tgtControlPort);
  if (tgtPort !== null && !Number.isInteger(tgtPort)) throw new BadUserInputError('tgtControlPort', 'must be an integer');
  const cfg: AgentConfig = {
    cloud: str(raw.cloud, 'cloud'),
    tokenFile: str(raw.tokenFile, 'tokenFile') ? resolve(str(raw.tokenFile, 'tokenFile')!) : null,
    clientCredentials: clientCredentials(raw),
    dataDir: dataDirOf(raw),
    http: parseHostPort(str(raw.http, 'http') ?? '0.0.0.0:8080', 'http'),
    advertiseUrl: str(raw.advertiseUrl, 'advertiseUrl'),
    tftp: tftp === null || tftp === 'off' ? null : parseHostPort(tftp, 'tftp', 69),
    tftpRoot: str(raw.tftpRoot, 'tftpRoot') ? resolve(str(raw.tftpRoot, 'tftpRoot')!) : null,
    tftpWorkers,
    dhcp: { mode: dhcpMode, address: dhcpAddress, interfaces: dhcpInterfaces, subnet: str(raw.dhcpSubnet, 'dhcpSubnet'), range: str(raw.dhcpRange, 'dhcpRange'), router: str(raw.dhcpRouter, 'dhcpRouter') },
    iscsi: { mode: oneOf(raw.iscsi, ISCSI_MODES, 'off', 'iscsi'), portals, tgtControlPort: tgtPort,
      chap: oneOf(raw.iscsiChap, ISCSI_CHAP_MODES, 'off', 'iscsiChap') },
    syncIntervalMs: Math.round(interval * 1000),
    outboxMaxBytes: Math.round(outboxMaxMb * 1024 * 1024),
    workload: parseWorkloadConfig(raw.workload),
  };
  if (cfg.cloud && !cfg.tokenFile && !cfg.clientCredentials) {
    throw new BadUserInputError('tokenEndpoint', '--cloud needs client credentials (--token-endpoint, --client-id, --client-secret-file) or --token-file (a site agent token)');
  }
  if (cfg.tftp && !cfg.tftpRoot) throw new BadUserInputError('tftpRoot', '--tftp needs --tftp-root (where ipxe.efi and undionly.kpxe are)');
  return cfg;
}

/** flags (commander's camelCase options) over env over the file named by either. */
export function loadAgentConfig(flags: RawConfig & { config?: string }, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  return resolveConfig(...sources(flags, env));
}

/**
 * The data dir alone, by the same precedence as loadAgentConfig, for the commands that need
 * nothing else (discover, power, boot-pxe): they must not fail on a key only `run` validates.
 */
export function loadDataDir(flags: { dataDir?: string; config?: string }, env: NodeJS.ProcessEnv = process.env): string {
  return dataDirOf(merge(sources(flags, env)));
}

function sources(flags: RawConfig & { config?: string }, env: NodeJS.ProcessEnv): RawConfig[] {
  const file = flags.config ?? env.SKYBOOT_AGENT_CONFIG;
  const { config: _file, ...values } = flags;
  return [file ? fromFile(file) : {}, fromEnv(env), values];
}
