/**
 * Boot templates (BOS session templates): a named, versioned set of boot sets, each an image with
 * kernel parameters and rootfs provider and the nodes it targets (xnames, groups, roles, narrowed
 * by arch). Validated on write against the site's inventory and images; a put with
 * `expectedVersion` is conditional on the stored version, so two editors never lose an update.
 */
import { DeleteCommand, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { BadUserInputError, ConflictError, NotFoundError, SkybootError } from '../../schema/errors.js';
import type { BootPayload } from '../../schema/bootPayload.js';
import { normaliseXName } from '../../schema/xname.js';
import { auditPut } from '../shared/audit.js';
import type { OperationContext } from '../shared/handler.js';
import { queryPage, type Page } from '../shared/pagination.js';
import { bootKernelParameters, readyImageArtifacts, siteFor } from '../boot/configurations.js';
import { siteComponentRecords, unknownGroups, type ComponentRecord } from '../inventory/lookup.js';
import { ROLES } from '../inventory/enums.js';
import { siteTemplatesPk, templateKey } from './keys.js';
import { int, list, nullable, object, oneOf, storedDecoder, str, withDefault, type Decoder } from '../shared/storedItem.js';

type Provider = 'HTTP' | 'ISCSI';

export interface BootSet {
  name: string;
  imageId: string;
  kernelParameters: string;
  rootfsProvider: Provider | null;
  arch: 'X86' | 'ARM' | 'OTHER' | null;
  xnames: string[];
  groups: string[];
  roles: string[];
}

export interface BootTemplate {
  name: string;
  site: string;
  description: string | null;
  bootSets: BootSet[];
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface BootSetInput {
  name: string;
  imageId: string;
  kernelParameters?: string | null;
  rootfsProvider?: Provider | null;
  arch?: 'X86' | 'ARM' | 'OTHER' | null;
  xnames?: string[] | null;
  groups?: string[] | null;
  roles?: string[] | null;
}

export interface BootTemplateInput {
  name: string;
  description?: string | null;
  site?: string | null;
  bootSets: BootSetInput[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAX_BOOT_SETS = 20;
const sortedUnique = (xs: string[]) => [...new Set(xs)].sort();

const bootSetDecoder: Decoder<BootSet> = object({
  name: str,
  imageId: str,
  kernelParameters: withDefault(str, ''),
  rootfsProvider: nullable(oneOf(['HTTP', 'ISCSI'] as const)),
  arch: nullable(oneOf(['X86', 'ARM', 'OTHER'] as const)),
  xnames: withDefault(list(str), []),
  groups: withDefault(list(str), []),
  roles: withDefault(list(str), []),
});

const templateDecoder: Decoder<BootTemplate> = object({
  name: str,
  site: str,
  description: nullable(str),
  bootSets: list(bootSetDecoder),
  version: int,
  createdAt: str,
  updatedAt: str,
});

/** The stored BootTemplate item; StoredItemError if it is malformed. */
export const toTemplate = storedDecoder('BootTemplate', templateDecoder);

export function validateTemplateName(raw: string, field: string): string {
  if (typeof raw !== 'string' || !NAME.test(raw)) throw new BadUserInputError(field, `"${String(raw)}" is not a template name (letters, digits, . _ -, at most 64)`);
  return raw;
}

/** An image problem is the input's fault: NOT_FOUND from the images domain becomes BAD_USER_INPUT naming it. */
async function imageFor(ctx: OperationContext, imageId: string, field: string) {
  try {
    return await readyImageArtifacts(ctx, imageId, field);
  } catch (err) {
    if (err instanceof SkybootError && err.code === 'NOT_FOUND') throw new BadUserInputError(field, `image ${imageId} does not exist`);
    throw err;
  }
}

async function normaliseBootSets(ctx: OperationContext, site: string, raw: BootSetInput[]): Promise<BootSet[]> {
  if (!Array.isArray(raw) || raw.length === 0) throw new BadUserInputError('input.bootSets', 'give at least one boot set');
  if (raw.length > MAX_BOOT_SETS) throw new BadUserInputError('input.bootSets', `at most ${MAX_BOOT_SETS} boot sets`);
  const nodes = new Set((await siteComponentRecords(ctx.clients, site)).filter((r) => r.type === 'Node').map((r) => r.xname));
  const seen = new Set<string>();
  const sets: BootSet[] = [];
  for (const [i, b] of raw.entries()) {
    const f = `input.bootSets[${i}]`;
    if (typeof b.name !== 'string' || !NAME.test(b.name)) throw new BadUserInputError(`${f}.name`, `"${String(b.name)}" is not a boot set name`);
    if (seen.has(b.name)) throw new BadUserInputError(`${f}.name`, `"${b.name}" is used by two boot sets`);
    seen.add(b.name);
    const image = await imageFor(ctx, b.imageId, `${f}.imageId`);
    const provider = b.rootfsProvider ?? null;
    if (provider && !image.rootfs) throw new BadUserInputError(`${f}.rootfsProvider`, `${provider} needs an image with a ROOTFS_SQUASHFS artifact; image ${image.imageId} has none`);
    if (b.arch && b.arch !== image.arch) throw new BadUserInputError(`${f}.arch`, `image ${image.imageId} is ${image.arch}, not ${b.arch}`);
    const xnames = sortedUnique((b.xnames ?? []).map((x, j) => normaliseXName(x, `${f}.xnames[${j}]`)));
    const missing = xnames.filter((x) => !nodes.has(x));
    if (missing.length) throw new BadUserInputError(`${f}.xnames`, `${missing.join(', ')} ${missing.length > 1 ? 'are not nodes' : 'is not a node'} of site ${site}`);
    const groups = sortedUnique(b.groups ?? []);
    const noGroups = await unknownGroups(ctx.clients, groups);
    if (noGroups.length) throw new BadUserInputError(`${f}.groups`, `group ${noGroups.join(', ')} does not exist`);
    const roles = sortedUnique(b.roles ?? []);
    for (const r of roles) if (!(ROLES as readonly string[]).includes(r)) throw new BadUserInputError(`${f}.roles`, `"${r}" is not one of ${ROLES.join(', ')}`);
    if (!xnames.length && !groups.length && !roles.length) throw new BadUserInputError(f, 'targets no nodes: give xnames, groups or roles');
    sets.push({
      name: b.name,
      imageId: image.imageId,
      kernelParameters: bootKernelParameters(b.kernelParameters, provider, `${f}.kernelParameters`),
      rootfsProvider: provider,
      arch: b.arch ?? null,
      xnames,
      groups,
      roles,
    });
  }
  return sets;
}

async function storedTemplate(ctx: OperationContext, site: string, name: string): Promise<BootTemplate | null> {
  const out = await ctx.clients.doc.send(new GetCommand({ TableName: ctx.clients.config.tableName, Key: templateKey(site, name), ConsistentRead: true }));
  return out.Item ? toTemplate(out.Item) : null;
}

export async function putBootTemplate(ctx: OperationContext, args: { input: BootTemplateInput; expectedVersion?: number | null }): Promise<BootTemplate> {
  const input = args.input;
  const site = siteFor(ctx, input.site, 'input.site');
  const name = validateTemplateName(input.name, 'input.name');
  if (input.description != null && input.description.length > 1024) throw new BadUserInputError('input.description', 'at most 1024 characters');
  const bootSets = await normaliseBootSets(ctx, site, input.bootSets);
  const existing = await storedTemplate(ctx, site, name);
  const current = existing?.version ?? 0;
  if (args.expectedVersion != null && args.expectedVersion !== current) {
    throw new ConflictError(`boot template ${name} is at version ${current}, not ${args.expectedVersion}`, 'expectedVersion');
  }
  const now = new Date().toISOString();
  const template: BootTemplate = { name, site, description: input.description ?? null, bootSets, version: current + 1, createdAt: existing?.createdAt ?? now, updatedAt: now };
  try {
    await ctx.clients.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: ctx.clients.config.tableName,
              Item: { ...templateKey(site, name), entity: 'BootTemplate', ...template, GSI1PK: siteTemplatesPk(site), GSI1SK: name },
              ConditionExpression: existing ? 'version = :v' : 'attribute_not_exists(PK)',
              ...(existing ? { ExpressionAttributeValues: { ':v': current } } : {}),
            },
          },
          auditPut(ctx, { operation: 'putBootTemplate', target: `bootTemplate:${site}/${name}`, site, before: existing ?? undefined, after: template }),
        ],
      }),
    );
  } catch (err) {
    if ((err as Error).name === 'TransactionCanceledException') throw new ConflictError(`boot template ${name} changed while this put ran; read it and retry`, 'expectedVersion');
    throw err;
  }
  return template;
}

export async function bootTemplate(ctx: OperationContext, args: { name: string; site?: string | null }): Promise<BootTemplate | null> {
  return storedTemplate(ctx, siteFor(ctx, args.site), args.name);
}

export async function bootTemplates(ctx: OperationContext, args: { site?: string | null; first?: number | null; after?: string | null }): Promise<Page<BootTemplate>> {
  const site = siteFor(ctx, args.site);
  return queryPage(ctx.clients, { input: { IndexName: 'GSI1', KeyConditionExpression: 'GSI1PK = :pk', ExpressionAttributeValues: { ':pk': siteTemplatesPk(site) } }, first: args.first, after: args.after }, toTemplate);
}

export async function deleteBootTemplate(ctx: OperationContext, args: { name: string; site?: string | null }): Promise<boolean> {
  const site = siteFor(ctx, args.site);
  const existing = await storedTemplate(ctx, site, args.name);
  if (!existing) throw new NotFoundError('boot template', args.name, 'name');
  await ctx.clients.doc.send(new DeleteCommand({ TableName: ctx.clients.config.tableName, Key: templateKey(site, args.name), ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': existing.version } }));
  return true;
}

/** A template read for a session: BAD_USER_INPUT naming it when it does not exist. */
export async function templateForSession(ctx: OperationContext, site: string, name: string, field: string): Promise<BootTemplate> {
  const t = await storedTemplate(ctx, site, validateTemplateName(name, field));
  if (!t) throw new BadUserInputError(field, `boot template "${name}" does not exist in site ${site}`);
  return t;
}

/** Each of the site's nodes a template targets, with the first boot set (in template order) that names it. */
export function templateTargets(t: BootTemplate, components: ComponentRecord[]): Map<string, BootSet> {
  const out = new Map<string, BootSet>();
  for (const set of t.bootSets) {
    for (const c of components) {
      if (c.type !== 'Node' || out.has(c.xname)) continue;
      if (set.arch && (c.arch ?? 'X86') !== set.arch) continue;
      const hit = set.xnames.includes(c.xname) || c.groups.some((g) => set.groups.includes(g)) || (!!c.role && set.roles.includes(c.role));
      if (hit) out.set(c.xname, set);
    }
  }
  return out;
}

/** The boot a boot set gives a node: the image's artifacts with the set's parameters. */
export async function bootSetPayload(ctx: OperationContext, set: BootSet): Promise<BootPayload> {
  const image = await readyImageArtifacts(ctx, set.imageId, `bootSets.${set.name}.imageId`);
  return { imageId: image.imageId, kernel: image.kernel, initrd: image.initrd, rootfs: image.rootfs, kernelParameters: set.kernelParameters, rootfsProvider: set.rootfsProvider };
}
