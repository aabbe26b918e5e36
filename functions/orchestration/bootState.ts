/**
 * A node's boot state as orchestration sees it: `desired` is what the boot domain resolves for the
 * node (its boot configuration); `staged` (written by stage: true sessions), `actual` (what the node
 * last validated on, with the boot token its heartbeat carried), the session that owns the node and
 * the manual workload hold live on one BOOTSTATE item per node. Desired is only ever written through
 * the boot domain's setBootConfiguration, never by writing its items.
 */
import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { NotFoundError, SkybootError } from '../../schema/errors.js';
import type { BootPayload } from '../../schema/bootPayload.js';
import { normaliseXName } from '../../schema/xname.js';
import { batchGet } from '../shared/batchGet.js';
import { queryAll } from '../shared/pagination.js';
import type { OperationContext } from '../shared/handler.js';
import type { Clients } from '../shared/clients.js';
import { auditPut } from '../shared/audit.js';
import { bootConfigurationFor } from '../boot/resolved.js';
import { setBootConfiguration, siteFor } from '../boot/configurations.js';
import { componentRecord } from '../inventory/lookup.js';
import { componentJson, type ComponentJson } from '../inventory/model.js';
import { bootStateKey } from './keys.js';

export interface BootStateRecord {
  site: string;
  xname: string;
  stagedImageId: string | null;
  stagedSessionId: string | null;
  actualImageId: string | null;
  actualBootToken: string | null;
  actualBootedAt: string | null;
  /** The newest session that took the node (the older one's record says SUPERSEDED). */
  activeSessionId: string | null;
  workloadHold: boolean;
}

const holdsPk = (site: string) => `SITE#${site}#BOOTHOLD`;

export function toBootState(site: string, xname: string, item: Record<string, unknown> | undefined): BootStateRecord {
  const s = (k: string) => (typeof item?.[k] === 'string' ? (item[k] as string) : null);
  return {
    site,
    xname,
    stagedImageId: s('stagedImageId'),
    stagedSessionId: s('stagedSessionId'),
    actualImageId: s('actualImageId'),
    actualBootToken: s('actualBootToken'),
    actualBootedAt: s('actualBootedAt'),
    activeSessionId: s('activeSessionId'),
    workloadHold: item?.workloadHold === true,
  };
}

export async function bootStates(c: Clients, site: string, xnames: string[], consistent = false): Promise<Map<string, BootStateRecord>> {
  const items = await batchGet(c, xnames.map((x) => bootStateKey(site, x)), consistent);
  return new Map(xnames.map((x, i) => [x, toBootState(site, x, items[i])]));
}

export async function bootStateOf(c: Clients, site: string, xname: string): Promise<BootStateRecord> {
  const out = await c.doc.send(new GetCommand({ TableName: c.config.tableName, Key: bootStateKey(site, xname), ConsistentRead: true }));
  return toBootState(site, xname, out.Item);
}

/** What the boot domain resolves for the node now, as a payload; null when nothing matches. */
export async function resolvedBoot(ctx: OperationContext, site: string, xname: string): Promise<BootPayload | null> {
  try {
    const r = await bootConfigurationFor({ xname, site }, ctx);
    if (!r) return null;
    return { imageId: r.imageId, kernel: r.kernel, initrd: r.initrd, rootfs: r.rootfs, kernelParameters: r.kernelParameters, rootfsProvider: r.rootfsProvider };
  } catch (err) {
    if (err instanceof SkybootError && err.code === 'NOT_FOUND') return null;
    throw err;
  }
}

/** Makes `boot` the node's desired state: an xname-level boot configuration, through the boot domain. */
export async function setDesiredBoot(ctx: OperationContext, site: string, xname: string, boot: BootPayload): Promise<void> {
  await setBootConfiguration(
    {
      input: {
        selector: { xnames: [xname] },
        site,
        ...(boot.imageId ? { imageId: boot.imageId } : { kernel: boot.kernel, initrd: boot.initrd }),
        kernelParameters: boot.kernelParameters,
        rootfsProvider: boot.rootfsProvider,
      },
    },
    ctx,
  );
}

/** Component.bootState. */
export async function componentBootState(ctx: OperationContext, source: Record<string, unknown> | undefined) {
  const site = String(source?.site);
  const xname = String(source?.xname);
  const [state, desired] = await Promise.all([bootStateOf(ctx.clients, site, xname), resolvedBoot(ctx, site, xname)]);
  return {
    desired: desired ? { imageId: desired.imageId } : null,
    staged: state.stagedSessionId ? { imageId: state.stagedImageId, sessionId: state.stagedSessionId } : null,
    actual: state.actualBootedAt ? { imageId: state.actualImageId, bootedAt: state.actualBootedAt } : null,
    workloadHold: state.workloadHold,
  };
}

/** setWorkloadHold: a held node counts as busy for respectWorkload sessions (workload manager `none`). */
export async function setWorkloadHold(ctx: OperationContext, args: { xnames: string[]; hold: boolean; site?: string | null }): Promise<ComponentJson[]> {
  const site = siteFor(ctx, args.site);
  const xnames = [...new Set(args.xnames.map((x, i) => normaliseXName(x, `xnames[${i}]`)))];
  const comps = await Promise.all(xnames.map((x) => componentRecord(ctx.clients, site, x)));
  const missing = xnames.filter((_, i) => !comps[i]);
  if (missing.length) throw new NotFoundError('component', `${missing.join(', ')} in site ${site}`, 'xnames');
  for (const x of xnames) {
    await ctx.clients.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: ctx.clients.config.tableName,
              Key: bootStateKey(site, x),
              UpdateExpression: args.hold ? 'SET workloadHold = :t, site = :site, xname = :x, GSI1PK = :pk, GSI1SK = :x' : 'SET site = :site, xname = :x REMOVE workloadHold, GSI1PK, GSI1SK',
              ExpressionAttributeValues: { ':site': site, ':x': x, ...(args.hold ? { ':t': true, ':pk': holdsPk(site) } : {}) },
            },
          },
          auditPut(ctx, { operation: 'setWorkloadHold', target: `component:${site}/${x}`, site, after: { hold: args.hold } }),
        ],
      }),
    );
  }
  return comps.map((c) => componentJson(c!));
}

/** The site's held nodes, for the snapshot (SnapshotNode.workloadHold). */
export async function siteWorkloadHolds(c: Clients, site: string): Promise<Set<string>> {
  const items = await queryAll(c, { IndexName: 'GSI1', KeyConditionExpression: 'GSI1PK = :pk', ExpressionAttributeValues: { ':pk': holdsPk(site) } });
  return new Set(items.map((i) => String(i.xname)));
}

/** Records what the node validated on. */
export async function recordActual(c: Clients, site: string, xname: string, imageId: string | null, bootToken: string | null, bootedAt: string): Promise<void> {
  await c.doc.send(
    new UpdateCommand({
      TableName: c.config.tableName,
      Key: bootStateKey(site, xname),
      UpdateExpression: 'SET site = :site, xname = :x, actualImageId = :i, actualBootToken = :t, actualBootedAt = :at',
      ExpressionAttributeValues: { ':site': site, ':x': xname, ':i': imageId, ':t': bootToken, ':at': bootedAt },
    }),
  );
}
