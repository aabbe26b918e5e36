/**
 * Key builders for every inventory item, so a layout is spelled once. docs/data-model.md
 * ("Inventory items") explains which access pattern each key serves.
 */

/** The component item: GetItem by xname; its own partition also holds its hardware item. */
export const componentKey = (xname: string) => ({ PK: `COMP#${xname}`, SK: 'COMP' });
export const hardwareKey = (xname: string) => ({ PK: `COMP#${xname}`, SK: 'HW' });

/** GSI1: every component of a site, sorted by xname. */
export const siteComponentsPk = (site: string) => `SITE#${site}#COMP`;
/**
 * GSI2: components of a site with one role (NO_ROLE for none), sorted by state then xname, so
 * role, role+state (begins_with) and state (one Query per role) are all served by one index:
 * a component costs two index writes, not three.
 */
export const NO_ROLE = 'NONE';
export const siteRolePk = (site: string, role: string | undefined) => `SITE#${site}#ROLE#${role ?? NO_ROLE}`;
export const roleStateSk = (state: string, xname: string) => `${state}#${xname}`;

/** Uniqueness claims: created with attribute_not_exists in the owner's transaction. */
export const macKey = (mac: string) => ({ PK: `MAC#${mac}`, SK: 'MAC' });
export const ipKey = (network: string, ip: string) => ({ PK: `IP#${network}#${ip}`, SK: 'IP' });
export const nidKey = (nid: number) => ({ PK: `NID#${nid}`, SK: 'NID' });

/**
 * The sites that hold inventory. Lists that name no site walk these partitions in order;
 * a site registry keeps "all components" a sequence of Queries instead of a Scan.
 */
export const SITES_PK = 'INV#SITES';
export const siteMarkerKey = (site: string) => ({ PK: SITES_PK, SK: `SITE#${site}` });

export const groupKey = (label: string) => ({ PK: `GROUP#${label}`, SK: 'GROUP' });
export const groupMemberKey = (label: string, xname: string) => ({ PK: `GROUP#${label}`, SK: `MEMBER#${xname}` });
/** One claim per (exclusive group, component): a component joins at most one group of the set. */
export const exclusiveKey = (exclusiveGroup: string, xname: string) => ({ PK: `EXCL#${exclusiveGroup}#${xname}`, SK: 'EXCL' });
/** GSI1: all groups, sorted by label. */
export const GROUPS_PK = 'GROUPS';

export const partitionKey = (name: string) => ({ PK: `PART#${name}`, SK: 'PART' });
export const partitionMemberKey = (name: string, xname: string) => ({ PK: `PART#${name}`, SK: `MEMBER#${xname}` });
/** GSI1: all partitions, sorted by name. */
export const PARTITIONS_PK = 'PARTITIONS';

export const redfishEndpointKey = (xname: string) => ({ PK: `RFE#${xname}`, SK: 'RFE' });
/** GSI1: a site's Redfish endpoints, sorted by xname. */
export const siteEndpointsPk = (site: string) => `SITE#${site}#RFE`;

/** An applied discovery report, so a redelivered report is answered without applying twice. */
export const discoveryReceiptKey = (site: string, idempotencyKey: string) => ({ PK: `DISCO#${site}#${idempotencyKey}`, SK: 'DISCO' });
/** GSI1: a site's discovery receipts in time order. */
export const discoveryReceiptIndex = (site: string, at: string, idempotencyKey: string) => ({ GSI1PK: `SITE#${site}#DISCO`, GSI1SK: `${at}#${idempotencyKey}` });

export const MEMBER_PREFIX = 'MEMBER#';
