/** cloud-init data per node and per group, merged by the shared rules in bootscript/cloudInit.ts. */
import { DeleteCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { batchGet } from '../shared/batchGet.js';
import { BadUserInputError, NotFoundError } from '../../schema/errors.js';
import { mergeCloudInit } from '../../bootscript/cloudInit.js';
import { auditPut } from '../shared/audit.js';
import type { OperationContext } from '../shared/handler.js';
import { canRead } from '../shared/identity.js';
import { existingSiteFor, siteFor } from './configurations.js';
import { cloudInitKey } from './keys.js';
import { decodeCloudInit } from './cloudInitItem.js';
import { dynamoNodeFacts } from './nodeFacts.js';

export interface CloudInitInput {
  xname?: string | null;
  group?: string | null;
  site?: string | null;
  metaData?: unknown;
  userData?: string | null;
  vendorData?: unknown;
}

export interface CloudInitView {
  scope: string;
  site: string;
  metaData: unknown;
  userData: string | null;
  vendorData: unknown;
  sources: string[];
}

/** Items stay far below DynamoDB's 400 KB limit; cloud-init's own limits are smaller still. */
const MAX_BYTES = 256 * 1024;
const GROUP = /^[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}$/;

function scopeOf(input: { xname?: string | null; group?: string | null }): { scope: 'NODE' | 'GROUP'; name: string } {
  if (!!input.xname === !!input.group) throw new BadUserInputError('input', 'give exactly one of xname and group');
  if (input.group && !GROUP.test(input.group)) throw new BadUserInputError('input.group', `"${input.group}" is not a group label`);
  return input.xname ? { scope: 'NODE', name: input.xname } : { scope: 'GROUP', name: input.group! };
}

const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);

export async function setCloudInit(args: { input: CloudInitInput }, ctx: OperationContext): Promise<CloudInitView> {
  const input = args.input;
  const site = await existingSiteFor(ctx, input.site, 'input.site');
  const { scope, name } = scopeOf(input);
  for (const f of ['metaData', 'vendorData'] as const) {
    if (input[f] != null && !isObject(input[f])) throw new BadUserInputError(`input.${f}`, 'must be a JSON object');
  }
  const size = Buffer.byteLength(JSON.stringify([input.metaData ?? null, input.userData ?? null, input.vendorData ?? null]));
  if (size > MAX_BYTES) throw new BadUserInputError('input', `cloud-init data is ${size} bytes; the limit is ${MAX_BYTES}`);
  const item = {
    ...cloudInitKey(site, scope, name),
    entity: 'CloudInit',
    site,
    scope: `${scope.toLowerCase()}:${name}`,
    metaData: input.metaData ?? null,
    userData: input.userData ?? null,
    vendorData: input.vendorData ?? null,
    updatedAt: new Date().toISOString(),
  };
  const c = ctx.clients;
  await c.doc.send(
    new TransactWriteCommand({
      TransactItems: [{ Put: { TableName: c.config.tableName, Item: item } }, auditPut(ctx, { operation: 'setCloudInit', target: `cloudInit:${site}:${item.scope}`, site, after: { size } })],
    }),
  );
  return { scope: item.scope, site, metaData: item.metaData, userData: item.userData, vendorData: item.vendorData, sources: [item.scope] };
}

export async function deleteCloudInit(args: { xname?: string | null; group?: string | null; site?: string | null }, ctx: OperationContext): Promise<boolean> {
  const site = siteFor(ctx, args.site);
  const { scope, name } = scopeOf(args);
  const c = ctx.clients;
  const out = await c.doc.send(new DeleteCommand({ TableName: c.config.tableName, Key: cloudInitKey(site, scope, name), ReturnValues: 'ALL_OLD' }));
  return !!out.Attributes;
}

export async function cloudInitFor(args: { xname: string; site?: string | null }, ctx: OperationContext): Promise<CloudInitView> {
  const c = ctx.clients;
  const site = siteFor(ctx, args.site);
  const f = await dynamoNodeFacts(c).byXname(site, args.xname);
  if (!f || !canRead(ctx.identity, f.site)) throw new NotFoundError('component', `${args.xname} in site ${site}`, 'xname');
  const keys = [cloudInitKey(f.site, 'NODE', f.xname), ...f.groups.map((g) => cloudInitKey(f.site, 'GROUP', g))];
  const items = (await batchGet(c, keys)).filter((i) => i !== undefined).map((i) => decodeCloudInit(i));
  const node = items.find((i) => i.scope === `node:${f.xname}`);
  const groups = items.filter((i) => i.scope.startsWith('group:')).map((i) => ({ group: i.scope.slice(6), ...i }));
  const merged = mergeCloudInit(groups, node ?? null);
  return { scope: `merged:${f.xname}`, site: f.site, ...merged };
}
