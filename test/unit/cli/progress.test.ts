import { formatBytes, formatDuration, progressLine } from '../../../cli/progress.js';
import { mapArch } from '../../../cli/push.js';
import { parseLabel } from '../../../cli/output.js';
import { clientConfig } from '../../../cli/client.js';
import { ProfileStore } from '../../../cli/profiles.js';
import { mkdtempSync, statSync } from 'node:fs';
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
  it('takes the URL and token from SKYBOOT_URL/SKYBOOT_TOKEN, else from the profile under XDG_CONFIG_HOME', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skyboot-cli-unit-'));
    expect(clientConfig({ XDG_CONFIG_HOME: dir, SKYBOOT_TOKEN: 'env', SKYBOOT_URL: 'http://h/graphql' })).toMatchObject({ url: 'http://h/graphql', token: 'env' });
    const none = clientConfig({ XDG_CONFIG_HOME: dir });
    expect(none.url).toBe('http://127.0.0.1:4000/graphql');
    await expect(typeof none.token === 'function' ? none.token() : Promise.resolve(none.token)).rejects.toThrow(/not logged in: run `skyboot login`/);
    const store = new ProfileStore({ XDG_CONFIG_HOME: dir });
    await store.saveProfile('lab', { apiUrl: 'http://127.0.0.1:4400/graphql', issuer: 'http://127.0.0.1:4401', clientId: 'skyboot-cli', scope: null, clientSecretFile: null });
    await store.saveTokens('lab', { accessToken: 'cached', refreshToken: null, expiresAt: Date.now() + 600_000, refreshAt: Date.now() + 570_000, tokenEndpoint: 'http://127.0.0.1:4401/token' });
    const lab = clientConfig({ XDG_CONFIG_HOME: dir, SKYBOOT_PROFILE: 'lab' });
    expect(lab.url).toBe('http://127.0.0.1:4400/graphql');
    expect(typeof lab.token === 'function' ? await lab.token() : lab.token).toBe('cached');
    expect(statSync(join(dir, 'skyboot', 'tokens', 'lab.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'skyboot', 'profiles.json')).mode & 0o777).toBe(0o600);
    expect(() => clientConfig({ XDG_CONFIG_HOME: dir }, '../etc')).toThrow(/profile "..\/etc"/);
  });
});
