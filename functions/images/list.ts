/** image(id) and images(filter): every list is a Query on an index, never a Scan. */
import type { OperationContext } from '../shared/handler.js';
import { queryPage, type Page } from '../shared/pagination.js';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { imageNameKey, imagesByLabelPk, imagesByNamePk, imagesByStatusPk, IMAGES_PK } from './keys.js';
import { decodeImage, type Label } from './model.js';
import { canRead } from '../shared/identity.js';
import { getImageItems, imageViews, loadImageView, type ImageView } from './store.js';
import { checkArch, checkLabels, checkName } from './validate.js';

export interface ImagesArgs {
  filter?: { name?: string | null; arch?: string | null; label?: Label | null; status?: string | null } | null;
  first?: number | null;
  after?: string | null;
}

export async function image(args: { id: string }, ctx: OperationContext): Promise<ImageView | null> {
  return loadImageView(ctx.clients, args.id, (site) => canRead(ctx.identity, site));
}

/**
 * An image by name: with a version, the one image holding that name + version (a GetItem on the
 * uniqueness claim, whatever its status); without, the newest READY image of the name (and arch,
 * when given): the name index newest first, filtered to READY, one item. Null when none.
 */
export async function imageByName(args: { name: string; version?: string | null; arch?: string | null }, ctx: OperationContext): Promise<ImageView | null> {
  checkName(args.name, 'name');
  if (args.arch) checkArch(args.arch, 'arch');
  const shown = (site: unknown) => canRead(ctx.identity, site);
  if (args.version != null) {
    checkName(args.version, 'version');
    const claim = await ctx.clients.doc.send(new GetCommand({ TableName: ctx.clients.config.tableName, Key: imageNameKey(args.name, args.version), ConsistentRead: true }));
    if (!claim.Item) return null;
    const view = await loadImageView(ctx.clients, String(claim.Item.imageId), shown);
    return view && (!args.arch || view.arch === args.arch) ? view : null;
  }
  const page = await images({ filter: { name: args.name, status: 'READY', arch: args.arch ?? null }, first: 1 }, ctx);
  return page.edges[0]?.node ?? null;
}

function remainingFilter(f: NonNullable<ImagesArgs['filter']>, skip: 'name' | 'arch' | 'status') {
  const parts: string[] = [];
  const values: Record<string, unknown> = {};
  const names: Record<string, string> = {};
  if (f.name && skip !== 'name') {
    parts.push('#n = :name');
    names['#n'] = 'name';
    values[':name'] = f.name;
  }
  if (f.arch && skip !== 'arch') {
    parts.push('arch = :arch');
    values[':arch'] = f.arch;
  }
  if (f.status && skip !== 'status') {
    parts.push('#s = :status');
    names['#s'] = 'status';
    values[':status'] = f.status;
  }
  if (!parts.length) return { values };
  return Object.keys(names).length ? { FilterExpression: parts.join(' AND '), ExpressionAttributeNames: names, values } : { FilterExpression: parts.join(' AND '), values };
}

export async function images(args: ImagesArgs, ctx: OperationContext): Promise<Page<ImageView>> {
  const c = ctx.clients;
  const f = args.filter ?? {};
  if (f.arch) checkArch(f.arch, 'filter.arch');
  if (f.label) {
    const [label] = checkLabels([f.label], 'filter.label');
    // Label items carry name in their sort key; arch and status are checked on the image itself.
    const page = await queryPage(
      c,
      {
        input: {
          IndexName: 'GSI1',
          KeyConditionExpression: f.name ? 'GSI1PK = :pk AND begins_with(GSI1SK, :name)' : 'GSI1PK = :pk',
          ExpressionAttributeValues: { ':pk': imagesByLabelPk(label!.key, label!.value), ...(f.name ? { ':name': `${f.name}#` } : {}) },
        },
        first: args.first,
        after: args.after,
      },
      (item) => item.imageId as string,
    );
    const items = await getImageItems(c, page.edges.map((e) => e.node));
    const wanted = page.edges.filter((e) => {
      const i = items.get(e.node);
      return i && (!f.arch || i.arch === f.arch) && (!f.status || i.status === f.status);
    });
    const views = new Map((await imageViews(c, wanted.map((e) => items.get(e.node)!), (site) => canRead(ctx.identity, site))).map((v) => [v.id, v]));
    return { edges: wanted.map((e) => ({ cursor: e.cursor, node: views.get(e.node)! })), pageInfo: page.pageInfo };
  }
  let input;
  if (f.name) {
    const rest = remainingFilter(f, 'name');
    input = {
      IndexName: 'GSI1',
      KeyConditionExpression: 'GSI1PK = :pk',
      ScanIndexForward: false,
      ...(rest.FilterExpression ? { FilterExpression: rest.FilterExpression } : {}),
      ...(rest.ExpressionAttributeNames ? { ExpressionAttributeNames: rest.ExpressionAttributeNames } : {}),
      ExpressionAttributeValues: { ':pk': imagesByNamePk(f.name), ...rest.values },
    };
  } else if (f.status) {
    const rest = remainingFilter(f, 'status');
    input = {
      IndexName: 'GSI3',
      KeyConditionExpression: 'GSI3PK = :pk',
      ...(rest.FilterExpression ? { FilterExpression: rest.FilterExpression } : {}),
      ...(rest.ExpressionAttributeNames ? { ExpressionAttributeNames: rest.ExpressionAttributeNames } : {}),
      ExpressionAttributeValues: { ':pk': imagesByStatusPk(f.status), ...rest.values },
    };
  } else {
    input = {
      IndexName: 'GSI2',
      KeyConditionExpression: f.arch ? 'GSI2PK = :pk AND begins_with(GSI2SK, :arch)' : 'GSI2PK = :pk',
      ExpressionAttributeValues: { ':pk': IMAGES_PK, ...(f.arch ? { ':arch': `${f.arch}#` } : {}) },
    };
  }
  const page = await queryPage(c, { input, first: args.first, after: args.after }, decodeImage);
  const views = await imageViews(c, page.edges.map((e) => e.node), (site) => canRead(ctx.identity, site));
  return { edges: page.edges.map((e, i) => ({ cursor: e.cursor, node: views[i]! })), pageInfo: page.pageInfo };
}
