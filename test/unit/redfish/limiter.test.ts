import { Limiter, mapLimited } from '../../../onprem-agent/redfish/limiter.js';

describe('Limiter', () => {
  test('never admits more than its limit and runs everything', async () => {
    const l = new Limiter(3);
    let active = 0;
    let peak = 0;
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => l.run(async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 2 + (i % 3)));
      active--;
      return i;
    })));
    expect(peak).toBe(3);
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(l.inFlight).toBe(0);
  });

  test('a failing task releases its slot', async () => {
    const l = new Limiter(1);
    await expect(l.run(async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    await expect(l.run(async () => 'next')).resolves.toBe('next');
  });

  test('mapLimited keeps input order', async () => {
    expect(await mapLimited([3, 1, 2], 2, async (x) => x * 10)).toEqual([30, 10, 20]);
  });
});
