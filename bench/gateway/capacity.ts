/**
 * Counts what DynamoDB charged: every read asks for ReturnConsumedCapacity, and the bytes of
 * the items it returned are sized by DynamoDB's own rules, so a request's charge can be set
 * against the minimum those bytes could cost (0.5 RCU per 4 KB, eventually consistent).
 *
 * DynamoDB Local misreports one thing: a TransactWriteItems of any size comes back as 2 units
 * (measured: 2, 10, 50 and 100 one-key Puts all reported 2), where AWS charges 2 units per item
 * per KB. For transactions the meter therefore charges AWS's rule to the request it sent: a Put
 * by its item's size, an Update, Delete or ConditionCheck at 2 units (the least a transactional
 * write or check of one item costs; AWS charges an update by the larger of the old and new item,
 * which the request does not carry). So transactional figures are lower bounds, never the
 * emulator's undercount.
 */
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface CapacityMeter {
  units: number;
  bytes: number;
  calls: number;
  /** Items DynamoDB read to answer (a Query's ScannedCount, else the items returned): what a filter costs. */
  scanned: number;
  reset(): void;
}

function valueSize(v: AttributeValue | null | undefined): number {
  if (!v) return 0;
  if (v.S !== undefined) return Buffer.byteLength(v.S);
  if (v.N !== undefined) return Math.ceil(v.N.replace(/^-|\.|^0+/g, '').length / 2) + 1;
  if (v.B !== undefined) return v.B.length;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.L !== undefined) return 3 + v.L.reduce((a, e) => a + 1 + valueSize(e), 0);
  if (v.M !== undefined) return 3 + itemSize(v.M);
  if (v.SS !== undefined) return v.SS.reduce((a, s) => a + Buffer.byteLength(s), 0);
  if (v.NS !== undefined) return v.NS.reduce((a, n) => a + Math.ceil(n.length / 2) + 1, 0);
  return 0;
}

export function itemSize(item: Record<string, AttributeValue> | null | undefined): number {
  if (!item || typeof item !== 'object') return 0;
  return Object.entries(item).reduce((a, [k, v]) => a + Buffer.byteLength(k) + valueSize(v), 0);
}

/** Minimum RCUs for reading `bytes` in one eventually consistent request. */
export function minimumReadUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 4096)) * 0.5;
}

type TransactItemJson = { Put?: { Item?: Record<string, AttributeValue> } } & Record<string, unknown>;

/** AWS's charge for one transaction: 2 units per KB of each Put, 2 for every other action. */
export function transactWriteUnits(items: TransactItemJson[]): number {
  return items.reduce((a, t) => a + (t.Put ? 2 * Math.max(1, Math.ceil(itemSize(t.Put.Item) / 1024)) : 2), 0);
}

/** The TransactItems of a serialised request body (the SDK sends a string or bytes), else undefined. */
function sentTransactItems(body: unknown): TransactItemJson[] | undefined {
  const text = typeof body === 'string' ? body : body instanceof Uint8Array ? new TextDecoder().decode(body) : undefined;
  if (!text?.includes('"TransactItems"')) return undefined;
  return (JSON.parse(text) as { TransactItems?: TransactItemJson[] }).TransactItems;
}

export function meterCapacity(client: DynamoDBClient): CapacityMeter {
  const meter: CapacityMeter = {
    units: 0,
    bytes: 0,
    calls: 0,
    scanned: 0,
    reset() {
      meter.units = 0;
      meter.bytes = 0;
      meter.calls = 0;
      meter.scanned = 0;
    },
  };
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const out = result.output as {
        ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[];
        Items?: Record<string, AttributeValue>[];
        Item?: Record<string, AttributeValue>;
        Responses?: Record<string, Record<string, AttributeValue>[]>;
        ScannedCount?: number;
      };
      const cc = Array.isArray(out.ConsumedCapacity) ? out.ConsumedCapacity : out.ConsumedCapacity ? [out.ConsumedCapacity] : [];
      const transactItems = sentTransactItems((args.request as { body?: unknown } | undefined)?.body);
      meter.units += transactItems ? transactWriteUnits(transactItems) : cc.reduce((a, c) => a + (c.CapacityUnits ?? 0), 0);
      const items = [...(out.Items ?? []), ...(out.Item ? [out.Item] : []), ...Object.values(out.Responses ?? {}).flat()];
      meter.bytes += items.reduce((a, i) => a + itemSize(i), 0);
      meter.scanned += out.ScannedCount ?? items.length;
      meter.calls += 1;
      return result;
    },
    // At the build step the request is serialised, so a transaction's items are read as sent.
    { step: 'build', name: 'skybootCapacityMeter' },
  );
  client.middlewareStack.add(
    (next) => async (args) => {
      (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
      return next(args);
    },
    { step: 'initialize', name: 'skybootAskConsumedCapacity' },
  );
  return meter;
}
