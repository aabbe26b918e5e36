/**
 * Counts what DynamoDB charged: every read asks for ReturnConsumedCapacity, and the bytes of
 * the items it returned are sized by DynamoDB's own rules, so a request's charge can be set
 * against the minimum those bytes could cost (0.5 RCU per 4 KB, eventually consistent).
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
      const input = args.input as { ReturnConsumedCapacity?: string };
      input.ReturnConsumedCapacity = 'TOTAL';
      const result = await next(args);
      const out = result.output as {
        ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[];
        Items?: Record<string, AttributeValue>[];
        Item?: Record<string, AttributeValue>;
        Responses?: Record<string, Record<string, AttributeValue>[]>;
        ScannedCount?: number;
      };
      const cc = Array.isArray(out.ConsumedCapacity) ? out.ConsumedCapacity : out.ConsumedCapacity ? [out.ConsumedCapacity] : [];
      meter.units += cc.reduce((a, c) => a + (c.CapacityUnits ?? 0), 0);
      const items = [...(out.Items ?? []), ...(out.Item ? [out.Item] : []), ...Object.values(out.Responses ?? {}).flat()];
      meter.bytes += items.reduce((a, i) => a + itemSize(i), 0);
      meter.scanned += out.ScannedCount ?? items.length;
      meter.calls += 1;
      return result;
    },
    { step: 'initialize', name: 'skybootCapacityMeter' },
  );
  return meter;
}
