/**
 * The boot timeline's event shape, shared by the agent (which records and reports events) and
 * the cloud (which validates, stores and serves them as `Component.bootTimeline`).
 */

export type BootStage =
  | 'dhcp.offer'
  | 'dhcp.ack'
  | 'tftp'
  | 'http.script'
  | 'http.kernel'
  | 'http.initrd'
  | 'http.rootfs'
  | 'iscsi.login'
  | 'heartbeat';

export const BOOT_STAGES: readonly BootStage[] = ['dhcp.offer', 'dhcp.ack', 'tftp', 'http.script', 'http.kernel', 'http.initrd', 'http.rootfs', 'iscsi.login', 'heartbeat'];

export interface BootTimelineEvent {
  xname: string;
  stage: BootStage;
  /** ISO-8601 time the agent saw it. */
  at: string;
  /** A short human note (file name, address, error). */
  detail?: string;
  /** The boot token served (http.script) or echoed (heartbeat). */
  bootToken?: string;
}

/** The observation kind an agent reports timeline events under, batched. */
export const BOOT_TIMELINE_KIND = 'boot.timeline';
/** Events per observation: a batch stays far below the 64 KiB observation payload limit. */
export const MAX_TIMELINE_EVENTS_PER_REPORT = 100;
/** Details are notes, not payloads. */
export const MAX_DETAIL_LENGTH = 200;

export interface BootTimelineReport {
  events: BootTimelineEvent[];
}
