/**
 * The shape of one route of the agent's HTTP server, and what every handler may use. Each
 * concern (boot script, artifacts, cloud-init, observations, iPXE binaries, status) is a file
 * exporting its routes; server.ts only dispatches.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SnapshotNode } from '../../../schema/siteSnapshot.js';
import type { ArtifactCache } from '../../cache/artifactCache.js';
import type { ObservationSink } from '../../outbox/sink.js';
import type { SnapshotIndex } from '../../sync/snapshotStore.js';
import type { NodeKernelParameters } from './bootScript.js';
import type { HttpCounters } from './counters.js';
import type { LeaseTable } from './nodeScope.js';
import type { TokenBuckets } from './rateLimit.js';
import type { BootTimeline } from '../../timeline/bootTimeline.js';

export interface AgentHttpOptions {
  index: () => SnapshotIndex | null;
  cache: ArtifactCache;
  outbox: ObservationSink;
  status: () => Promise<unknown>;
  /** The URL nodes reach this server at; default: from each request's Host header. */
  advertiseUrl?: string;
  extraKernelParameters?: NodeKernelParameters;
  /** Changes whenever what extraKernelParameters answers may change (iSCSI exports), so memoised scripts are not reused across it. */
  bootScriptEpoch?: () => number;
  /**
   * Where the iPXE binaries are (the TFTP root): UEFI HTTP-boot clients get
   * `/boot/v1/ipxe/<file>` as their boot file from DHCP and fetch it here.
   */
  ipxeDir?: string | null;
  /** This agent's DHCP leases (full mode): a node may also be reached at the address leased to its MAC. */
  leases?: LeaseTable | null;
  /** Whether a node's boot script holds secrets and is node-scoped; default `bootCarriesSecrets`. */
  bootScriptCarriesSecrets?: (node: SnapshotNode) => boolean;
  /** Heartbeat and phone-home budget per requester address; default burst 20, 1 every 2 s. */
  observationRateLimit?: { burst: number; perSecond: number };
  /** Largest heartbeat/phone-home body in bytes; default 64 KiB. */
  maxObservationBody?: number;
  /** Where the server records what it served each node (script, kernel, initrd, rootfs) and heartbeats. */
  timeline?: BootTimeline;
}

/** What handlers share: the options, counters and the heartbeat/phone-home budget. */
export interface HttpServices {
  opts: AgentHttpOptions;
  counters: HttpCounters;
  observationBudget: TokenBuckets;
}

export interface RouteRequest {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** The pattern's capture groups, still percent-encoded. */
  params: string[];
  /** The TCP peer's address (see nodeScope.ts); never a forwarded header. */
  requester: string | null;
}

export interface Route {
  /** GET routes answer HEAD too. */
  method: 'GET' | 'POST';
  pattern: RegExp;
  handle(r: RouteRequest): Promise<void> | void;
}
