/** Splitting discovery reports into parts the outbox can carry. */
import { splitDiscoveryReport, DiscoveryItemTooLargeError } from '../../../onprem-agent/orchestrator/discoveryParts.js';

const component = (i: number) => ({ xname: `x1000c0s${i}b0n0`, state: 'ON', hardware: { serialNumber: `SN${i}`, firmware: [{ name: 'BIOS', version: 'x'.repeat(2000) }] } });

describe('splitDiscoveryReport', () => {
  it('keeps a report that fits whole, under its own key', () => {
    const parts = splitDiscoveryReport('k', { endpoints: [{ xname: 'x1000c0s0b0' }], components: [component(0)] });
    expect(parts).toEqual([{ idempotencyKey: 'k', payload: { idempotencyKey: 'k', endpoints: [{ xname: 'x1000c0s0b0' }], components: [component(0)] } }]);
  });

  it('cuts a large one into parts under the byte and item limits, endpoints first, keys stable', () => {
    const endpoints = Array.from({ length: 30 }, (_, i) => ({ xname: `x1000c0s${i}b0`, address: `10.0.0.${i}:443`, discoveryStatus: 'OK' }));
    const components = Array.from({ length: 100 }, (_, i) => component(i));
    const parts = splitDiscoveryReport('redfish-discovery-abc', { endpoints, components }, 20_000, 25);
    expect(parts.length).toBeGreaterThan(10);
    for (const p of parts) {
      expect(Buffer.byteLength(JSON.stringify(p.payload))).toBeLessThanOrEqual(20_000);
      expect((p.payload.endpoints ?? []).length + (p.payload.components ?? []).length).toBeLessThanOrEqual(25);
      expect(p.payload.idempotencyKey).toBe(p.idempotencyKey);
    }
    expect(parts.map((p) => p.idempotencyKey)).toEqual(parts.map((_, i) => `redfish-discovery-abc.p${i + 1}of${parts.length}`));
    expect(parts.flatMap((p) => p.payload.endpoints ?? [])).toEqual(endpoints);
    expect(parts.flatMap((p) => p.payload.components ?? [])).toEqual(components);
    expect(parts[0]!.payload.endpoints).toHaveLength(25);
    expect(splitDiscoveryReport('redfish-discovery-abc', { endpoints, components }, 20_000, 25)).toEqual(parts);
  });

  it('keeps part keys within 128 characters and names an item too large for any part', () => {
    const long = 'k'.repeat(128);
    const parts = splitDiscoveryReport(long, { components: Array.from({ length: 20 }, (_, i) => component(i)) }, 5_000);
    expect(parts.every((p) => /^[\w.:-]{1,128}$/.test(p.idempotencyKey))).toBe(true);
    expect(() => splitDiscoveryReport('k', { components: [component(0), { xname: 'x1', pad: 'y'.repeat(10_000) }] }, 5_000)).toThrow(DiscoveryItemTooLargeError);
    expect(() => splitDiscoveryReport('k', { components: [component(0), { xname: 'x1', pad: 'y'.repeat(10_000) }] }, 5_000)).toThrow('components[1] alone is');
  });
});
