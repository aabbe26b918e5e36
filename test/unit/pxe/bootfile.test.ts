import { ARCHITECTURES, archFromVendorClass, bootScriptUrl, chooseBootFile } from '../../../onprem-agent/pxe/bootfile.js';

const cfg = { httpBaseUrl: 'http://10.9.0.1:8080/' };
const mac = '52:54:00:12:34:56';

describe('boot file choice', () => {
  it.each([
    [[0], 'undionly.kpxe', 'PXEClient'],
    [undefined, 'undionly.kpxe', 'PXEClient'],
    [[6], 'ipxe-ia32.efi', 'PXEClient'],
    [[7], 'ipxe.efi', 'PXEClient'],
    [[9], 'ipxe.efi', 'PXEClient'],
    [[10], 'ipxe-arm32.efi', 'PXEClient'],
    [[11], 'ipxe-arm64.efi', 'PXEClient'],
    [[16], 'http://10.9.0.1:8080/boot/v1/ipxe/ipxe.efi', 'HTTPClient'],
    [[19], 'http://10.9.0.1:8080/boot/v1/ipxe/ipxe-arm64.efi', 'HTTPClient'],
    [[2, 7], 'ipxe.efi', 'PXEClient'],
  ])('arch %j → %s (%s)', (architectures, file, vendorClass) => {
    expect(chooseBootFile({ architectures, ipxe: false, mac }, cfg)).toMatchObject({ bootFile: file, vendorClass, stage: 'firmware' });
  });

  it('lets the site choose the ARM64 binary', () => {
    expect(chooseBootFile({ architectures: [11], ipxe: false, mac }, { ...cfg, bootFiles: { 'efi-arm64': 'snp.efi' } })?.bootFile).toBe('snp.efi');
  });

  it('breaks the iPXE chain loop with the concrete boot script URL for the MAC', () => {
    const c = chooseBootFile({ architectures: [7], ipxe: true, mac }, cfg);
    expect(c).toMatchObject({ stage: 'ipxe', bootFile: 'http://10.9.0.1:8080/boot/v1/bootscript?mac=52%3A54%3A00%3A12%3A34%3A56' });
    expect(bootScriptUrl('http://a', mac)).toBe(c?.bootFile.replace('10.9.0.1:8080', 'a'));
  });

  it('stays silent for architectures without a boot file', () => {
    expect(chooseBootFile({ architectures: [12], ipxe: false, mac }, cfg)).toBeUndefined();
    expect(chooseBootFile({ architectures: [999], ipxe: false, mac }, cfg)).toBeUndefined();
  });

  it('knows every IANA type 0-41 and reads the arch from option 60', () => {
    for (let t = 0; t <= 41; t++) expect(ARCHITECTURES.has(t)).toBe(true);
    expect(archFromVendorClass('PXEClient:Arch:00011:UNDI:003000')).toBe(11);
    expect(archFromVendorClass('MSFT 5.0')).toBeUndefined();
  });
});
