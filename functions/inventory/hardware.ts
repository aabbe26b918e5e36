/**
 * Hardware inventory per component, in the component's partition (SK HW) so it is written
 * beside the component without touching the component's version. `Component.hardware` for a
 * whole list of components arrives as one event; a DataLoader per event turns it into
 * BatchGetItem calls instead of one GetItem per component.
 */
import DataLoader from 'dataloader';
import { BadUserInputError } from '../../schema/errors.js';
import { auditPut } from '../shared/audit.js';
import type { OperationContext } from '../shared/handler.js';
import { batchGet } from '../shared/batchGet.js';
import { getComponent } from './componentStore.js';
import { componentKey, hardwareKey } from './keys.js';
import { canSee, resolveSite } from './sites.js';
import { transact } from '../shared/transact.js';
import { NotFoundError } from '../../schema/errors.js';
import { list, mac, name, object, optionalInt, optionalString, xname } from './validation.js';
import { anyMap, int, list as listOf, nullable, object as shapeOf, storedDecoder, str, withDefault, type Decoder } from '../shared/storedItem.js';

type Item = Record<string, unknown>;

export interface HardwareInventory {
  xname: string;
  manufacturer: string | null;
  model: string | null;
  serialNumber: string | null;
  partNumber: string | null;
  processors: Item[];
  memory: Item[];
  accelerators: Item[];
  nics: Item[];
  firmware: { name: string; version: string }[];
  totalMemoryMiB: number;
  version: number;
  updatedAt: string;
}

const MAX_PARTS = 512;

/** Each part kind: its string fields and integer fields, so input checking is one loop. */
const PART_FIELDS: Record<string, { strings: string[]; ints: string[] }> = {
  processors: { strings: ['socket', 'manufacturer', 'model', 'architecture', 'serialNumber'], ints: ['cores', 'threads', 'maxSpeedMHz'] },
  memory: { strings: ['slot', 'memoryType', 'manufacturer', 'partNumber', 'serialNumber'], ints: ['capacityMiB', 'speedMHz'] },
  accelerators: { strings: ['slot', 'manufacturer', 'model', 'serialNumber'], ints: ['memoryMiB'] },
  nics: { strings: ['name', 'manufacturer', 'model', 'serialNumber', 'firmwareVersion'], ints: [] },
};

function parts(raw: unknown, kind: string, field: string): Item[] {
  if (raw === undefined || raw === null) return [];
  const items = list(raw, field);
  if (items.length > MAX_PARTS) throw new BadUserInputError(field, `has more than ${MAX_PARTS} entries`);
  const spec = PART_FIELDS[kind]!;
  return items.map((r, i) => {
    const o = object(r, `${field}[${i}]`);
    const out: Item = {};
    for (const s of spec.strings) out[s] = optionalString(o[s], `${field}[${i}].${s}`, 256) ?? null;
    for (const n of spec.ints) out[n] = optionalInt(o[n], `${field}[${i}].${n}`) ?? null;
    if (kind === 'nics') {
      const macs = o.macAddresses === undefined || o.macAddresses === null ? [] : list(o.macAddresses, `${field}[${i}].macAddresses`);
      out.macAddresses = macs.map((m, j) => mac(m, `${field}[${i}].macAddresses[${j}]`));
    }
    return out;
  });
}

/** Checks and normalises HardwareInventoryInput; `field` prefixes error fields. */
export function readHardware(raw: unknown, field = 'inventory'): Omit<HardwareInventory, 'xname' | 'version' | 'updatedAt'> {
  const o = object(raw, field);
  const memory = parts(o.memory, 'memory', `${field}.memory`);
  const firmware = (o.firmware === undefined || o.firmware === null ? [] : list(o.firmware, `${field}.firmware`)).map((r, i) => {
    const f = object(r, `${field}.firmware[${i}]`);
    const n = optionalString(f.name, `${field}.firmware[${i}].name`, 256);
    const v = optionalString(f.version, `${field}.firmware[${i}].version`, 256);
    if (!n || v === undefined) throw new BadUserInputError(`${field}.firmware[${i}]`, 'name and version are required');
    return { name: n, version: v };
  });
  return {
    manufacturer: optionalString(o.manufacturer, `${field}.manufacturer`, 256) ?? null,
    model: optionalString(o.model, `${field}.model`, 256) ?? null,
    serialNumber: optionalString(o.serialNumber, `${field}.serialNumber`, 256) ?? null,
    partNumber: optionalString(o.partNumber, `${field}.partNumber`, 256) ?? null,
    processors: parts(o.processors, 'processors', `${field}.processors`),
    memory,
    accelerators: parts(o.accelerators, 'accelerators', `${field}.accelerators`),
    nics: parts(o.nics, 'nics', `${field}.nics`),
    firmware,
    totalMemoryMiB: memory.reduce((s, m) => s + ((m.capacityMiB as number | null) ?? 0), 0),
  };
}

const hardwareDecoder: Decoder<HardwareInventory> = shapeOf({
  xname: str,
  manufacturer: nullable(str),
  model: nullable(str),
  serialNumber: nullable(str),
  partNumber: nullable(str),
  // Parts were checked field by field on the way in (readHardware); stored, each must still be a map.
  processors: withDefault(listOf(anyMap), []),
  memory: withDefault(listOf(anyMap), []),
  accelerators: withDefault(listOf(anyMap), []),
  nics: withDefault(listOf(anyMap), []),
  firmware: withDefault(listOf(shapeOf({ name: str, version: str })), []),
  totalMemoryMiB: withDefault(int, 0),
  version: int,
  updatedAt: str,
});

/** The stored Hardware item (SK HW) as the API returns it; StoredItemError if it is malformed. */
export const decodeHardware = storedDecoder('Hardware', hardwareDecoder);

/** The steps writing a component's hardware record; the component must exist (ConditionCheck). */
export function hardwareSteps(ctx: OperationContext, x: string, site: string, inv: ReturnType<typeof readHardware>, previous: Item | undefined, operation: string) {
  const TableName = ctx.clients.config.tableName;
  const version = ((previous?.version as number | undefined) ?? 0) + 1;
  const item = { ...hardwareKey(site, x), entity: 'Hardware', xname: x, site, ...inv, version, updatedAt: new Date().toISOString() };
  return {
    item,
    steps: [
      {
        item: { ConditionCheck: { TableName, Key: componentKey(site, x), ConditionExpression: 'attribute_exists(PK)' } },
        onConditionFailed: () => new NotFoundError('component', `${x} in site ${site}`, 'xname'),
      },
      {
        item: {
          Put: {
            TableName,
            Item: item,
            ...(previous ? { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': previous.version } } : { ConditionExpression: 'attribute_not_exists(PK)' }),
          },
        },
        retryOnConditionFailed: true,
      },
      { item: auditPut(ctx, { operation, target: x, before: previous ? { version: previous.version } : undefined, after: { version, processors: inv.processors.length, memoryMiB: inv.totalMemoryMiB, serialNumber: inv.serialNumber } }) },
    ],
  };
}

export async function writeHardware(ctx: OperationContext, x: string, site: string, inv: ReturnType<typeof readHardware>, operation: string): Promise<HardwareInventory> {
  let written: Item | undefined;
  await transact(ctx, async () => {
    const [previous] = await batchGet(ctx.clients, [hardwareKey(site, x)]);
    const p = hardwareSteps(ctx, x, site, inv, previous, operation);
    written = p.item;
    return p.steps;
  });
  return decodeHardware(written!);
}

export async function setHardwareInventory(ctx: OperationContext, args: { xname: unknown; site?: unknown; inventory: unknown }): Promise<HardwareInventory> {
  const x = xname(args.xname);
  const inv = readHardware(args.inventory);
  const site = await resolveSite(ctx, args.site);
  const c = await getComponent(ctx, site, x);
  if (!c || !canSee(ctx, c.site)) throw new NotFoundError('component', `${x} in site ${site}`, 'xname');
  return writeHardware(ctx, x, c.site, inv, 'setHardwareInventory');
}

const loaders = new WeakMap<OperationContext, DataLoader<string, Item | undefined>>();

function loaderFor(ctx: OperationContext): DataLoader<string, Item | undefined> {
  let l = loaders.get(ctx);
  if (!l) {
    // Keyed by "<site> <xname>": DataLoader caches by string, and neither part holds a space.
    l = new DataLoader<string, Item | undefined>((refs) => batchGet(ctx.clients, refs.map((r) => hardwareKey(...(r.split(' ') as [string, string])))), { cache: true, maxBatchSize: 1000 });
    loaders.set(ctx, l);
  }
  return l;
}

/** Component.hardware: every call of one event shares one loader, so N components cost N/100 BatchGets. */
export async function componentHardware(ctx: OperationContext, _args: unknown, source?: Record<string, unknown>): Promise<HardwareInventory | null> {
  const x = xname(source?.xname, 'source.xname');
  const site = name(source?.site, 'source.site');
  const item = await loaderFor(ctx).load(`${site} ${x}`);
  if (!item || !canSee(ctx, item.site)) return null;
  return decodeHardware(item);
}
