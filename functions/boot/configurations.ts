/**
 * Boot configurations: set (create or update, keyed by site + selector; replacing the stored one or
 * patching it), read, list, delete.
 * A configuration claims one binding item per selector value (attribute_not_exists or already
 * ours), so a value belongs to at most one configuration per site and resolution is a BatchGet.
 * Setting one references its image (REF item + a version bump on the image in the same
 * transaction), which is what makes deleteImage refuse while it is in use.
 */
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { transact, type Step } from '../shared/transact.js';
import { unmatchedNodeTargets } from '../inventory/lookup.js';
import { BadUserInputError, ConflictError, NotFoundError } from '../../schema/errors.js';
import { validateKernelParameters, RESERVED_KERNEL_PARAMETERS } from '../../bootscript/kernelParameters.js';
import { auditPut } from '../shared/audit.js';
import type { OperationContext } from '../shared/handler.js';
import type { BootPayload } from '../../schema/bootPayload.js';
import { assertAllowedAt, canRead, siteScope } from '../shared/identity.js';
import { unknownSiteError, unknownSites } from '../sites/registry.js';
import { queryPage, type Page } from '../shared/pagination.js';
import { artifactKey, artifactRefKey, imageKey, imageRefKey } from '../images/keys.js';
import { getArtifactItem, getImageItem } from '../images/store.js';
import { bindingKey, bootConfigKey, REF_KIND, siteBootConfigsPk } from './keys.js';
import { bootPayloadFields, type Binding } from './resolve.js';
import { bool, int, list, nullable, object, oneOf, storedDecoder, str, withDefault, type Decoder } from '../shared/storedItem.js';
import { bindingValues, configurationId, describeBinding, normaliseSelector, type Selector, type SelectorInput } from './selector.js';

export interface BootConfigurationInput {
  selector: SelectorInput;
  site?: string | null;
  imageId?: string | null;
  kernel?: string | null;
  initrd?: string | null;
  kernelParameters?: string | null;
  rootfsProvider?: 'HTTP' | 'ISCSI' | null;
  priority?: number | null;
  expectedVersion?: number | null;
}

export interface BootConfigurationView extends BootPayload {
  id: string;
  site: string;
  selector: Selector;
  priority: number;
  version: number;
  createdAt: string;
  updatedAt: string;
}

const SITE = /^[a-z0-9][a-z0-9-]{0,62}$/;
const SHA = /^[0-9a-f]{64}$/;

/** The site a call addresses (the agent's own, else the named one, else the default), where the caller must hold the operation's role. */
export function siteFor(ctx: OperationContext, requested: string | null | undefined, field = 'site'): string {
  const scoped = siteScope(ctx.identity);
  if (scoped) {
    if (requested && requested !== scoped) throw new NotFoundError('site', requested, field);
    return scoped;
  }
  const site = requested ?? ctx.clients.config.defaultSite;
  if (!SITE.test(site)) throw new BadUserInputError(field, `"${site}" is not a site name`);
  assertAllowedAt(ctx.identity, ctx.access, site, field);
  return site;
}

/** siteFor, and the site must be in the one site registry (functions/sites/registry.ts): writes never address a site that does not exist. */
export async function existingSiteFor(ctx: OperationContext, requested: string | null | undefined, field = 'site'): Promise<string> {
  const site = siteFor(ctx, requested, field);
  if ((await unknownSites(ctx.clients, [site])).length) throw unknownSiteError(field, site);
  return site;
}

const selectorDecoder: Decoder<Selector> = object({
  xnames: withDefault(list(str), []),
  macs: withDefault(list(str), []),
  nids: withDefault(list(int), []),
  groups: withDefault(list(str), []),
  roles: withDefault(list(str), []),
  subRole: nullable(str),
  default: withDefault(bool, false),
  unknown: withDefault(bool, false),
  arch: nullable(oneOf(['X86', 'ARM', 'OTHER'] as const)),
});

const configDecoder: Decoder<BootConfigurationView> = object({
  ...bootPayloadFields,
  id: str,
  site: str,
  selector: selectorDecoder,
  priority: withDefault(int, 0),
  version: int,
  createdAt: str,
  updatedAt: str,
});

/** The stored BootConfiguration item (SK BOOTCFG) as the API returns it; StoredItemError if it is malformed. */
export const toView = storedDecoder('BootConfiguration', configDecoder);

async function getConfigItem(ctx: OperationContext, id: string): Promise<Record<string, unknown> | undefined> {
  const out = await ctx.clients.doc.send(new GetCommand({ TableName: ctx.clients.config.tableName, Key: bootConfigKey(id), ConsistentRead: true }));
  return out.Item;
}

interface Artifacts {
  imageId: string | null;
  kernel: string;
  initrd: string | null;
  rootfs: string | null;
  explicit: string[];
}

/** A READY image's artifacts, as a boot uses them; NOT_FOUND / BAD_USER_INPUT naming `field` otherwise. */
export async function readyImageArtifacts(ctx: OperationContext, imageId: string, field: string): Promise<{ imageId: string; name: string; imageVersion: string; arch: string; kernel: string; initrd: string | null; rootfs: string | null }> {
  const image = await getImageItem(ctx.clients, imageId);
  if (!image) throw new NotFoundError('image', imageId, field);
  if (image.status !== 'READY') {
    throw new BadUserInputError(field, `image ${image.name} ${image.imageVersion} (${image.id}) is ${image.status}${image.reason ? ` (${image.reason})` : ''}; only READY images can be booted`);
  }
  const of = (t: string) => image.artifacts.find((a) => a.type === t)?.sha256 ?? null;
  return { imageId: image.id, name: image.name, imageVersion: image.imageVersion, arch: image.arch, kernel: of('KERNEL')!, initrd: of('INITRD'), rootfs: of('ROOTFS_SQUASHFS') };
}

/** Kernel parameters as a boot configuration stores them: validated, with root=/netroot= reserved when Skyboot provides the rootfs. */
export function bootKernelParameters(raw: string | null | undefined, provider: 'HTTP' | 'ISCSI' | null, field: string): string {
  const reserved = provider ? [...RESERVED_KERNEL_PARAMETERS, 'root', 'netroot'] : RESERVED_KERNEL_PARAMETERS;
  return validateKernelParameters(raw ?? '', { field, reserved });
}

async function artifactsFor(ctx: OperationContext, input: BootConfigurationInput, selector: Selector): Promise<Artifacts> {
  const c = ctx.clients;
  if (input.imageId && input.kernel) throw new BadUserInputError('input.kernel', 'give imageId or kernel (+ initrd), not both');
  if (input.imageId) {
    if (input.initrd) throw new BadUserInputError('input.initrd', 'comes from the image when imageId is given');
    const image = await readyImageArtifacts(ctx, input.imageId, 'input.imageId');
    if ((selector.default || selector.unknown) && image.arch !== selector.arch) {
      throw new BadUserInputError('input.imageId', `image ${image.name} ${image.imageVersion} is ${image.arch}; the selector is for ${selector.arch}`);
    }
    return { imageId: image.imageId, kernel: image.kernel, initrd: image.initrd, rootfs: image.rootfs, explicit: [] };
  }
  if (!input.kernel) throw new BadUserInputError('input.imageId', 'give an imageId or an explicit kernel sha256');
  const explicit: string[] = [];
  for (const [field, sha] of [['input.kernel', input.kernel], ['input.initrd', input.initrd]] as const) {
    if (!sha) continue;
    if (!SHA.test(sha)) throw new BadUserInputError(field, `"${sha}" is not a lower-case hex sha256`);
    const art = await getArtifactItem(c, sha);
    if (!art) throw new NotFoundError('artifact', sha, field);
    if (art.status !== 'READY') throw new BadUserInputError(field, `artifact ${sha} is ${art.status}${art.reason ? ` (${art.reason})` : ''}; only READY artifacts can be booted`);
    explicit.push(sha);
  }
  return { imageId: null, kernel: input.kernel, initrd: input.initrd ?? null, rootfs: null, explicit };
}

/**
 * How a write treats the stored configuration of the same site + selector. REPLACE: the input is
 * the whole configuration (a field left out takes its default). PATCH: a field left out or null
 * keeps its stored value; kernelParameters "" clears them; imageId, or kernel (+ initrd), replaces
 * the stored artifacts together, and initrd alone pairs with the stored explicit kernel.
 */
export type BootWriteMode = 'PATCH' | 'REPLACE';

/** A node target of the selector that matches nothing in the site's inventory (stored anyway: the inventory may follow). */
export interface BootTargetWarning {
  field: string;
  value: string;
  reason: string;
}

export interface BootConfigurationWrite {
  configuration: BootConfigurationView;
  warnings: BootTargetWarning[];
}

function storedArtifacts(e: BootConfigurationView): Artifacts {
  return { imageId: e.imageId, kernel: e.kernel, initrd: e.initrd, rootfs: e.rootfs, explicit: e.imageId ? [] : [e.kernel, e.initrd].filter((s): s is string => !!s) };
}

/** The configuration a write stores: the input alone (REPLACE, or no stored one) or the input over the stored one (PATCH). */
async function merged(ctx: OperationContext, input: BootConfigurationInput, selector: Selector, existing: BootConfigurationView | undefined, mode: BootWriteMode) {
  const patch = mode === 'PATCH' && existing !== undefined;
  let arts: Artifacts;
  if (!patch || input.imageId || input.kernel) arts = await artifactsFor(ctx, input, selector);
  else if (input.initrd) {
    if (existing.imageId) throw new BadUserInputError('input.initrd', `the stored configuration boots image ${existing.imageId}; an initrd goes with an explicit kernel: give kernel too`);
    arts = await artifactsFor(ctx, { ...input, kernel: existing.kernel }, selector);
  } else arts = storedArtifacts(existing);
  const provider = input.rootfsProvider ?? (patch ? existing.rootfsProvider : null);
  if (provider && !arts.rootfs) {
    throw new BadUserInputError(
      'input.rootfsProvider',
      input.rootfsProvider ? `${provider} needs an image with a ROOTFS_SQUASHFS artifact` : `the stored ${provider} needs an image with a ROOTFS_SQUASHFS artifact and the new one has none; write in REPLACE mode to drop it`,
    );
  }
  // With a rootfs provider Skyboot writes root= itself (HTTP) or the agent does (ISCSI).
  const kernelParameters = bootKernelParameters(input.kernelParameters ?? (patch ? existing.kernelParameters : null), provider, 'input.kernelParameters');
  const priority = input.priority ?? (patch ? existing.priority : 0);
  if (!Number.isInteger(priority) || Math.abs(priority) > 1_000_000) throw new BadUserInputError('input.priority', 'must be an integer between -1000000 and 1000000');
  const boot: BootPayload = { imageId: arts.imageId, kernel: arts.kernel, initrd: arts.initrd, rootfs: arts.rootfs, kernelParameters, rootfsProvider: provider };
  return { arts, boot, priority };
}

/**
 * One write, read-merge-write inside the transaction runner: the configuration's Put is
 * conditional on the version it was merged from. A PATCH without expectedVersion that loses that
 * race re-reads and merges again (the runner retries with backoff), so two writers patching
 * different fields both land; merging here rather than in each client means no client can do a
 * blind read-modify-write, and the version check cannot be forgotten.
 */
async function writeConfiguration(ctx: OperationContext, input: BootConfigurationInput, mode: BootWriteMode, operation: string): Promise<BootConfigurationView> {
  const site = await existingSiteFor(ctx, input.site, 'input.site');
  const selector = normaliseSelector(input.selector ?? {});
  const id = configurationId(site, selector);
  const table = ctx.clients.config.tableName;
  const values = bindingValues(selector);
  let view: BootConfigurationView | undefined;
  await transact(ctx, async () => {
    const existingItem = await getConfigItem(ctx, id);
    const existing = existingItem ? toView(existingItem) : undefined;
    if (input.expectedVersion != null && input.expectedVersion !== (existing?.version ?? 0)) {
      throw new ConflictError(`boot configuration ${id} is at version ${existing?.version ?? 0}, not ${input.expectedVersion}`, 'input.expectedVersion');
    }
    const { arts, boot, priority } = await merged(ctx, input, selector, existing, mode);
    const now = new Date().toISOString();
    view = { id, site, selector, ...boot, priority, version: (existing?.version ?? 0) + 1, createdAt: existing?.createdAt ?? now, updatedAt: now };
    const payload = (value: string): Binding & Record<string, unknown> => ({ ...bindingKey(site, value), entity: 'BootBinding', value, configId: id, site, ...boot, priority, configVersion: view!.version });
    const oldExplicit = existing ? storedArtifacts(existing).explicit : [];
    const notReady = () => new BadUserInputError('input.imageId', 'the image or artifact stopped being READY (deleted or failed) while this configuration was set');
    const steps: Step[] = [
      {
        item: {
          Put: {
            TableName: table,
            Item: { ...bootConfigKey(id), entity: 'BootConfiguration', ...view, GSI1PK: siteBootConfigsPk(site), GSI1SK: id },
            ConditionExpression: existing ? 'version = :v' : 'attribute_not_exists(PK)',
            ...(existing ? { ExpressionAttributeValues: { ':v': existing.version } } : {}),
          },
        },
        retryOnConditionFailed: mode === 'PATCH' && input.expectedVersion == null,
        onConditionFailed: () => new ConflictError(`boot configuration ${id} changed while this update ran; read it and retry`, 'input.expectedVersion'),
      },
      ...values.map((v) => ({
        item: { Put: { TableName: table, Item: payload(v), ConditionExpression: 'attribute_not_exists(PK) OR configId = :id', ExpressionAttributeValues: { ':id': id }, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } },
        onConditionFailed: (stored?: Record<string, unknown>) =>
          new ConflictError(`${describeBinding(v).text} already belongs to boot configuration ${String(stored?.configId ?? '?')} in site ${site}; change that configuration or delete it first`, 'input.selector'),
      })),
      ...(arts.imageId
        ? [
            {
              item: {
                Update: {
                  TableName: table,
                  Key: imageKey(arts.imageId),
                  UpdateExpression: 'SET version = version + :one',
                  ConditionExpression: '#s = :ready',
                  ExpressionAttributeNames: { '#s': 'status' },
                  ExpressionAttributeValues: { ':one': 1, ':ready': 'READY' },
                },
              },
              onConditionFailed: notReady,
            },
            { item: { Put: { TableName: table, Item: { ...imageRefKey(arts.imageId, REF_KIND, id), entity: 'ImageRef', site, configId: id } } } },
          ]
        : []),
      ...arts.explicit.flatMap((sha) => [
        {
          item: { ConditionCheck: { TableName: table, Key: artifactKey(sha), ConditionExpression: '#s = :ready', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':ready': 'READY' } } },
          onConditionFailed: notReady,
        },
        { item: { Put: { TableName: table, Item: { ...artifactRefKey(sha, REF_KIND, id), entity: 'ArtifactRef', site, configId: id } } } },
      ]),
      ...(existing?.imageId && existing.imageId !== arts.imageId ? [{ item: { Delete: { TableName: table, Key: imageRefKey(existing.imageId, REF_KIND, id) } } }] : []),
      ...oldExplicit.filter((sha) => !arts.explicit.includes(sha)).map((sha) => ({ item: { Delete: { TableName: table, Key: artifactRefKey(sha, REF_KIND, id) } } })),
      { item: auditPut(ctx, { operation, target: `bootConfiguration:${id}`, before: existing, after: view }) },
    ];
    return steps;
  });
  return view!;
}

/** The warnings for a selector's node targets that no node of the site holds. */
async function unmatchedTargetWarnings(ctx: OperationContext, site: string, s: Selector): Promise<BootTargetWarning[]> {
  const u = await unmatchedNodeTargets(ctx.clients, site, s);
  const f = 'input.selector';
  return [
    ...u.xnames.map((x) => ({ field: `${f}.xnames`, value: x, reason: `no node ${x} in site ${site}'s inventory` })),
    ...u.macs.map((m) => ({ field: `${f}.macs`, value: m, reason: `no node of site ${site} has this MAC` })),
    ...u.nids.map((n) => ({ field: `${f}.nids`, value: String(n), reason: `no node of site ${site} has nid ${n}` })),
    ...u.unknownGroups.map((g) => ({ field: `${f}.groups`, value: g, reason: `no group ${g}` })),
    ...u.emptyGroups.map((g) => ({ field: `${f}.groups`, value: g, reason: `group ${g} has no members in site ${site}` })),
  ];
}

/** Today's setBootConfiguration: REPLACE, the configuration only. */
export async function setBootConfiguration(args: { input: BootConfigurationInput }, ctx: OperationContext): Promise<BootConfigurationView> {
  return writeConfiguration(ctx, args.input, 'REPLACE', 'setBootConfiguration');
}

/** A write in either mode, with warnings for node targets the inventory does not hold. */
export async function writeBootConfiguration(args: { input: BootConfigurationInput; mode: BootWriteMode }, ctx: OperationContext): Promise<BootConfigurationWrite> {
  if (args.mode !== 'PATCH' && args.mode !== 'REPLACE') throw new BadUserInputError('mode', `"${String(args.mode)}" is not PATCH or REPLACE`);
  const configuration = await writeConfiguration(ctx, args.input, args.mode, 'writeBootConfiguration');
  return { configuration, warnings: await unmatchedTargetWarnings(ctx, configuration.site, configuration.selector) };
}

export async function bootConfiguration(args: { id: string }, ctx: OperationContext): Promise<BootConfigurationView | null> {
  const item = await getConfigItem(ctx, args.id);
  if (!item) return null;
  if (!canRead(ctx.identity, item.site)) return null;
  return toView(item);
}

export async function bootConfigurations(args: { site?: string | null; first?: number | null; after?: string | null }, ctx: OperationContext): Promise<Page<BootConfigurationView>> {
  const site = siteFor(ctx, args.site);
  return queryPage(
    ctx.clients,
    { input: { IndexName: 'GSI1', KeyConditionExpression: 'GSI1PK = :pk', ExpressionAttributeValues: { ':pk': siteBootConfigsPk(site) } }, first: args.first, after: args.after },
    toView,
  );
}

export async function deleteBootConfiguration(args: { id: string }, ctx: OperationContext): Promise<boolean> {
  const c = ctx.clients;
  const item = await getConfigItem(ctx, args.id);
  if (!item) throw new NotFoundError('boot configuration', args.id, 'id');
  const view = toView(item);
  assertAllowedAt(ctx.identity, ctx.access, view.site, 'id');
  const table = c.config.tableName;
  const explicit = view.imageId ? [] : [view.kernel, view.initrd].filter((s): s is string => !!s);
  await c.doc.send(
    new TransactWriteCommand({
      TransactItems: [
        { Delete: { TableName: table, Key: bootConfigKey(view.id), ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': view.version } } },
        ...bindingValues(view.selector).map((v) => ({
          Delete: { TableName: table, Key: bindingKey(view.site, v), ConditionExpression: 'configId = :id', ExpressionAttributeValues: { ':id': view.id } },
        })),
        ...(view.imageId ? [{ Delete: { TableName: table, Key: imageRefKey(view.imageId, REF_KIND, view.id) } }] : []),
        ...explicit.map((sha) => ({ Delete: { TableName: table, Key: artifactRefKey(sha, REF_KIND, view.id) } })),
        auditPut(ctx, { operation: 'deleteBootConfiguration', target: `bootConfiguration:${view.id}`, before: view }),
      ],
    }),
  );
  return true;
}

