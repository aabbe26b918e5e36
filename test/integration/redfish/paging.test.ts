/** A BMC that pages its Systems collection (Members@odata.nextLink): every page is read. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { discover } from '../../../onprem-agent/redfish/discover.js';
import { serveMockup } from './mockupServer.js';
import { tempDir } from './support.js';

function put(root: string, path: string, body: object): void {
  const dir = join(root, path.replace(/^\/redfish\/v1\/?/, ''));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ '@odata.id': path, ...body }));
}

test('every page of a paged collection is walked', async () => {
  const dir = tempDir('skyboot-paged-');
  const r = dir.path;
  put(r, '/redfish/v1/', { RedfishVersion: '1.6.0', Systems: { '@odata.id': '/redfish/v1/Systems' }, Managers: { '@odata.id': '/redfish/v1/Managers' } });
  put(r, '/redfish/v1/Managers', { Members: [] });
  put(r, '/redfish/v1/Systems', { Members: [{ '@odata.id': '/redfish/v1/Systems/A' }], 'Members@odata.nextLink': '/redfish/v1/Systems/page2' });
  put(r, '/redfish/v1/Systems/page2', { Members: [{ '@odata.id': '/redfish/v1/Systems/B' }], 'Members@odata.nextLink': '/redfish/v1/Systems/page3' });
  put(r, '/redfish/v1/Systems/page3', { Members: [{ '@odata.id': '/redfish/v1/Systems/C' }] });
  for (const s of ['A', 'B', 'C']) put(r, `/redfish/v1/Systems/${s}`, { Id: s, PowerState: 'Off', SerialNumber: `SN-${s}` });
  const server = await serveMockup(r);
  try {
    const report = await discover({ targets: [{ host: '127.0.0.1', port: server.port, scheme: 'http' }] });
    expect(report.hardware.map((h) => h.serial)).toEqual(['SN-A', 'SN-B', 'SN-C']);
    expect(report.components.filter((c) => c.type === 'Node').map((c) => c.state)).toEqual(['Off', 'Off', 'Off']);
  } finally {
    await server.close();
    dir.remove();
  }
});
