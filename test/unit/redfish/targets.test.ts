import { parseTarget, parseTargets } from '../../../onprem-agent/redfish/targets.js';

describe('scan targets from --range', () => {
  test('a CIDR block expands to its hosts, without network and broadcast addresses', () => {
    const t = parseTarget('10.1.2.0/30');
    expect(t.map((x) => `${x.scheme}://${x.host}:${x.port}`)).toEqual(['https://10.1.2.1:443', 'https://10.1.2.2:443']);
    expect(parseTarget('10.1.2.7/32')).toEqual([{ host: '10.1.2.7', port: 443, scheme: 'https' }]);
  });

  test('a scheme, a port and a port range are understood', () => {
    expect(parseTarget('http://127.0.0.1:8000-8002').map((x) => x.port)).toEqual([8000, 8001, 8002]);
    expect(parseTarget('bmc1.example.org:8443')).toEqual([{ host: 'bmc1.example.org', port: 8443, scheme: 'https' }]);
    expect(parseTarget('127.0.0.1', 'http')).toEqual([{ host: '127.0.0.1', port: 80, scheme: 'http' }]);
  });

  test('duplicates across ranges are scanned once', () => {
    expect(parseTargets(['10.0.0.0/30', '10.0.0.1'])).toHaveLength(2);
  });

  test('bad input names the field and the reason', () => {
    expect(() => parseTarget('10.0.0.0/33')).toThrow(/range: .*not a CIDR block/);
    expect(() => parseTarget('host:99999')).toThrow(/range: .*not a port/);
    expect(() => parseTarget('10.0.0.0/8')).toThrow(/at most 65536/);
    expect(() => parseTarget('bad host')).toThrow(/range/);
  });
});
