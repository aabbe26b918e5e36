import { formatBytes, formatDuration, progressLine } from '../../../cli/progress.js';
import { mapArch } from '../../../cli/push.js';
import { parseLabel } from '../../../cli/output.js';
import { clientConfig } from '../../../cli/client.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('skyboot CLI helpers', () => {
  it('draws a bar with bytes, rate and ETA', () => {
    expect(progressLine('up', 512 * 1024 * 1024, 1024 * 1024 * 1024, 4, 10)).toBe('up [#####.....] 512.0 MiB/1.00 GiB 128.0 MiB/s ETA 4s');
    expect(progressLine('up', 0, 100, 0, 4)).toBe('up [....] 0 B/100 B 0 B/s ETA --');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatDuration(125)).toBe('2m05s');
    expect(formatDuration(7260)).toBe('2h01m');
  });
  it('maps arch names', () => {
    expect(['x86_64', 'amd64', 'aarch64', 'arm64', 'X86', 'ARM'].map(mapArch)).toEqual(['X86', 'X86', 'ARM', 'ARM', 'X86', 'ARM']);
    expect(() => mapArch('mips')).toThrow(/--arch: "mips"/);
  });
  it('parses labels', () => {
    expect(parseLabel('os=rocky=9')).toEqual({ key: 'os', value: 'rocky=9' });
    expect(() => parseLabel('os')).toThrow(/not key=value/);
  });
  it('takes the token from SKYBOOT_TOKEN, else the data dir admin.token', () => {
    const dir = mkdtempSync(join(tmpdir(), 'skyboot-cli-unit-'));
    writeFileSync(join(dir, 'admin.token'), 'file-token\n');
    expect(clientConfig({ SKYBOOT_DATA_DIR: dir })).toEqual({ url: 'http://127.0.0.1:4000/graphql', token: 'file-token' });
    expect(clientConfig({ SKYBOOT_DATA_DIR: dir, SKYBOOT_TOKEN: 'env', SKYBOOT_URL: 'http://h/graphql' })).toEqual({ url: 'http://h/graphql', token: 'env' });
    expect(clientConfig({ SKYBOOT_DATA_DIR: join(dir, 'none') }).token).toBeNull();
  });
});
