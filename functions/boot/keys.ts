/**
 * Key builders for every boot item. docs/data-model.md ("Boot items") explains the access
 * pattern each serves: resolution is one BatchGetItem of a node's candidate bindings.
 */
export const bootConfigKey = (id: string) => ({ PK: `BOOTCFG#${id}`, SK: 'BOOTCFG' });
/** GSI1: a site's configurations. */
export const siteBootConfigsPk = (site: string) => `SITE#${site}#BOOTCFG`;
/** One binding per selector value: `XNAME#x1000c0s0b0n0`, `GROUP#compute`, `DEFAULT#X86`, ... */
export const bindingKey = (site: string, selectorValue: string) => ({ PK: `BOOTSEL#${site}#${selectorValue}`, SK: 'BOOTSEL' });
export const cloudInitKey = (site: string, scope: 'NODE' | 'GROUP', name: string) => ({ PK: `CLOUDINIT#${site}#${scope}#${name}`, SK: 'CLOUDINIT' });
export const REF_KIND = 'BOOT_CONFIGURATION';
