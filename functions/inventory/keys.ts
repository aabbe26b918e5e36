/**
 * Key builders for every inventory item, so a layout is spelled once. docs/data-model.md
 * ("Inventory items") explains which access pattern each key serves. Sites are tenants: every
 * key that names a component, or an identity a component claims (MAC, IP, NID), starts with the
 * component's site, so two sites may both hold x1000c0s0b0n0 with nid 1 and the same MAC.
 * Site names, xnames and network names never contain '#' (validation.ts, schema/xname.ts).
 */

/** The component item: GetItem by site and xname; its own partition also holds its hardware item. */
export const componentKey = (site: string, xname: string) => ({ PK: `COMP#${site}#${xname}`, SK: 'COMP' });
export const hardwareKey = (site: string, xname: string) => ({ PK: `COMP#${site}#${xname}`, SK: 'HW' });

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

/** Uniqueness claims within a site: created with attribute_not_exists in the owner's transaction. */
export const macKey = (site: string, mac: string) => ({ PK: `MAC#${site}#${mac}`, SK: 'MAC' });
export const ipKey = (site: string, network: string, ip: string) => ({ PK: `IP#${site}#${network}#${ip}`, SK: 'IP' });
export const nidKey = (site: string, nid: number) => ({ PK: `NID#${site}#${nid}`, SK: 'NID' });

/** Group and partition names are deployment-wide; a member is one site's component. */
export const groupKey = (label: string) => ({ PK: `GROUP#${label}`, SK: 'GROUP' });
export const memberSk = (site: string, xname: string) => `MEMBER#${site}#${xname}`;
export const groupMemberKey = (label: string, site: string, xname: string) => ({ PK: `GROUP#${label}`, SK: memberSk(site, xname) });
/** One claim per (exclusive group, component): a component joins at most one group of the set. */
export const exclusiveKey = (exclusiveGroup: string, site: string, xname: string) => ({ PK: `EXCL#${exclusiveGroup}#${site}#${xname}`, SK: 'EXCL' });
/** GSI1: all groups, sorted by label. */
export const GROUPS_PK = 'GROUPS';

export const partitionKey = (name: string) => ({ PK: `PART#${name}`, SK: 'PART' });
export const partitionMemberKey = (name: string, site: string, xname: string) => ({ PK: `PART#${name}`, SK: memberSk(site, xname) });
/** GSI1: all partitions, sorted by name. */
export const PARTITIONS_PK = 'PARTITIONS';

export const redfishEndpointKey = (site: string, xname: string) => ({ PK: `RFE#${site}#${xname}`, SK: 'RFE' });
/** GSI1: a site's Redfish endpoints, sorted by xname. */
export const siteEndpointsPk = (site: string) => `SITE#${site}#RFE`;

/** An applied discovery report, so a redelivered report is answered without applying twice. */
export const discoveryReceiptKey = (site: string, idempotencyKey: string) => ({ PK: `DISCO#${site}#${idempotencyKey}`, SK: 'DISCO' });
/** GSI1: a site's discovery receipts in time order. */
export const discoveryReceiptIndex = (site: string, at: string, idempotencyKey: string) => ({ GSI1PK: `SITE#${site}#DISCO`, GSI1SK: `${at}#${idempotencyKey}` });

export const MEMBER_PREFIX = 'MEMBER#';
