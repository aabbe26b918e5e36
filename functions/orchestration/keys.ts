/**
 * Orchestration items (docs/data-model.md, "Orchestration items"):
 * - a power request: PK CMD#<id>, SK CMD; GSI1 (SITE#<site>#CMD#<status>, <createdAt>#<id>)
 *   lists a site's requests in one status (oldest first for the agent's claim, newest first for
 *   `powerRequests(status)`); GSI2 (SITE#<site>#CMD, <createdAt>#<id>) lists all of a site's,
 *   newest first (written since `powerRequests` exists: older requests carry no GSI2 key);
 * - an iSCSI session: PK ISCSI#<site>, SK <agent>#<target>#<lun>#<initiator>; GSI1
 *   (ISCSIROOT#<sha256>, <site>#<agent>#…) finds sessions of an image's rootfs, GSI2
 *   (ISCSINODE#<xname>, …) the sessions of one node;
 * - a boot timeline event: PK BOOTTL#<site>#<xname>, SK <at>#<digest> (bootTimeline.ts).
 */
export const commandKey = (id: string) => ({ PK: `CMD#${id}`, SK: 'CMD' });
export const siteCommandsPk = (site: string, status: string) => `SITE#${site}#CMD#${status}`;
export const siteAllCommandsPk = (site: string) => `SITE#${site}#CMD`;

export const sessionPk = (site: string) => `ISCSI#${site}`;
export const sessionSk = (agent: string, targetIqn: string, lun: number, initiatorIqn: string) => `${agent}#${targetIqn}#${lun}#${initiatorIqn}`;
export const rootfsSessionsPk = (sha256: string) => `ISCSIROOT#${sha256}`;
export const nodeSessionsPk = (xname: string) => `ISCSINODE#${xname}`;

/**
 * Boot orchestration (docs/data-model.md, "Boot orchestration items"):
 * - a boot template: PK BOOTTPL#<site>#<name>, SK BOOTTPL; GSI1 (SITE#<site>#BOOTTPL, <name>) lists a site's;
 * - a session: PK BOOTSESS#<id>, SK SESSION; GSI1 (SITE#<site>#BOOTSESS, <createdAt>#<id>) lists a
 *   site's, GSI2 (SITE#<site>#BOOTSESS#<status>, …) by status, GSI3 (BOOTSESS#OPEN, <site>#…) the
 *   sessions that may still hold claims, for the claim-expiry schedule;
 * - a session's node record: PK BOOTSESS#<id>, SK NODE#<xname> (a session's nodes page in xname order);
 * - a node's boot state (staged, actual, hold, the session that owns it): PK BOOTSTATE#<site>#<xname>, SK BOOTSTATE.
 */
export const templateKey = (site: string, name: string) => ({ PK: `BOOTTPL#${site}#${name}`, SK: 'BOOTTPL' });
export const siteTemplatesPk = (site: string) => `SITE#${site}#BOOTTPL`;
export const bootSessionKey = (id: string) => ({ PK: `BOOTSESS#${id}`, SK: 'SESSION' });
export const bootSessionPk = (id: string) => `BOOTSESS#${id}`;
export const NODE_SK_PREFIX = 'NODE#';
export const sessionNodeKey = (id: string, xname: string) => ({ PK: bootSessionPk(id), SK: `${NODE_SK_PREFIX}${xname}` });
export const siteSessionsPk = (site: string) => `SITE#${site}#BOOTSESS`;
export const siteSessionsByStatusPk = (site: string, status: string) => `SITE#${site}#BOOTSESS#${status}`;
export const OPEN_SESSIONS_PK = 'BOOTSESS#OPEN';
export const bootStateKey = (site: string, xname: string) => ({ PK: `BOOTSTATE#${site}#${xname}`, SK: 'BOOTSTATE' });
export const bootTimelinePk = (site: string, xname: string) => `BOOTTL#${site}#${xname}`;
