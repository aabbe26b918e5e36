/**
 * Orchestration items (docs/data-model.md, "Orchestration items"):
 * - a power request: PK CMD#<id>, SK CMD; GSI1 (SITE#<site>#CMD#<status>, <createdAt>#<id>)
 *   lists a site's requests in one status, oldest first, for the agent's claim;
 * - an iSCSI session: PK ISCSI#<site>, SK <agent>#<target>#<lun>#<initiator>; GSI1
 *   (ISCSIROOT#<sha256>, <site>#<agent>#…) finds sessions of an image's rootfs, GSI2
 *   (ISCSINODE#<xname>, …) the sessions of one node;
 * - a boot timeline event: PK BOOTTL#<site>#<xname>, SK <at>#<digest> (bootTimeline.ts).
 */
export const commandKey = (id: string) => ({ PK: `CMD#${id}`, SK: 'CMD' });
export const siteCommandsPk = (site: string, status: string) => `SITE#${site}#CMD#${status}`;

export const sessionPk = (site: string) => `ISCSI#${site}`;
export const sessionSk = (agent: string, targetIqn: string, lun: number, initiatorIqn: string) => `${agent}#${targetIqn}#${lun}#${initiatorIqn}`;
export const rootfsSessionsPk = (sha256: string) => `ISCSIROOT#${sha256}`;
export const nodeSessionsPk = (xname: string) => `ISCSINODE#${xname}`;
export const bootTimelinePk = (site: string, xname: string) => `BOOTTL#${site}#${xname}`;
