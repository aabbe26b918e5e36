import { renderBootScript } from '../../../bootscript/render.js';
import { parseBootScript, seededDraw } from '../../../onprem-agent/redfish/simulator/simOs.js';

describe('simulated OS helpers', () => {
  it('reads kernel URL, initrd URL and kernel parameters from a rendered boot script', () => {
    const K = 'a'.repeat(64);
    const I = 'b'.repeat(64);
    const script = renderBootScript({ mac: '02:00:00:00:00:01', agentBaseUrl: 'http://127.0.0.1:8080', node: { xname: 'x1c0s0b0n0', nid: 1, kernel: K, initrd: I, rootfs: null, rootfsProvider: null, kernelParameters: 'console=ttyS0 sim.panic=1' } });
    const p = parseBootScript(script);
    expect(p.kernelUrl).toBe(`http://127.0.0.1:8080/artifacts/sha256/${K}`);
    expect(p.initrdUrl).toBe(`http://127.0.0.1:8080/artifacts/sha256/${I}`);
    expect(p.params).toMatch(/^initrd=initrd BOOTIF=01-02-00-00-00-00-01 xname=x1c0s0b0n0 nid=1 console=ttyS0 sim\.panic=1 skyboot\.token=[0-9a-f]{20}$/);
    expect(parseBootScript('#!ipxe\nsleep 30\n')).toEqual({ kernelUrl: null, initrdUrl: null, params: '' });
  });

  it('draws boot failures reproducibly from seed, node and boot number, at about the asked rate', () => {
    const draws = (seed: string) => Array.from({ length: 1000 }, (_, i) => seededDraw(seed, `02:00:00:00:${String(i % 50).padStart(2, '0')}:01`, Math.floor(i / 50) + 1));
    expect(draws('s1')).toEqual(draws('s1'));
    expect(draws('s1')).not.toEqual(draws('s2'));
    const failed = draws('s1').filter((d) => d < 0.2).length;
    expect(failed).toBeGreaterThan(150);
    expect(failed).toBeLessThan(250);
    expect(draws('s1').every((d) => d >= 0 && d < 1)).toBe(true);
  });
});
