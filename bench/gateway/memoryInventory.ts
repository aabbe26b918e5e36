/**
 * The peer for bench/gateway: the same manifest and the same gateway, but `component` and
 * `components` answered from an in-memory map. The difference between the two is the cost
 * of our data path (the domain code plus DynamoDB).
 */
import { domainHandler, type Operation } from '../../functions/shared/handler.js';
import { inventoryManifest } from '../../functions/inventory/manifest.js';
import type { DomainRegistration } from '../../gateway/domains.js';

type Component = Record<string, unknown> & { xname: string };

export function memoryInventory(all: Component[]): DomainRegistration {
  const byXname = new Map(all.map((c) => [c.xname, c]));
  const sorted = [...all].sort((a, b) => a.xname.localeCompare(b.xname));
  const index = new Map(sorted.map((c, i) => [c.xname, i]));
  const unsupported: Operation = async () => {
    throw new Error('not part of the benchmark');
  };
  const ops = Object.fromEntries(Object.keys(inventoryManifest.operations).map((k) => [k, unsupported])) as Record<keyof typeof inventoryManifest.operations, Operation>;
  ops.component = async (a: { xname: string }) => byXname.get(a.xname) ?? null;
  ops.componentHardware = async () => null;
  ops.components = async (a: { first?: number; after?: string }) => {
    const first = a.first ?? 50;
    const start = a.after ? (index.get(Buffer.from(a.after, 'base64url').toString()) ?? -1) + 1 : 0;
    const page = sorted.slice(start, start + first);
    return {
      edges: page.map((node) => ({ cursor: Buffer.from(node.xname).toString('base64url'), node })),
      pageInfo: { hasNextPage: start + first < sorted.length, endCursor: page.length ? Buffer.from(page.at(-1)!.xname).toString('base64url') : null },
    };
  };
  const handler = domainHandler(inventoryManifest, ops);
  return { manifest: inventoryManifest, load: async () => handler };
}
