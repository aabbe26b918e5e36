import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CredentialResolver, loadStoredCredentials, parseCredentials, storeCredentials } from '../../../onprem-agent/redfish/credentials.js';
import { tempDir } from '../../integration/redfish/support.js';

describe('BMC credentials', () => {
  test('YAML-lite and JSON files give the same rules', () => {
    const yaml = '# lab\n- match: 10.0.0.0/24\n  username: admin\n  password: "p#ss: word"\n- match: 10.0.0.5:8443\n  username: root\n  password: other\n';
    const json = JSON.stringify([{ match: '10.0.0.0/24', username: 'admin', password: 'p#ss: word' }, { match: '10.0.0.5:8443', username: 'root', password: 'other' }]);
    expect(parseCredentials(yaml)).toEqual(parseCredentials(json));
    expect(parseCredentials(yaml)[0]!.password).toBe('p#ss: word');
  });

  test('errors name the rule and never quote the file', () => {
    expect(() => parseCredentials('[{"match":"*","username":"u"}]')).toThrow(/credentials\[0\]\.password: a non-empty string is required/);
    expect(() => parseCredentials('{"rules": [ {"match": "*", "password": "hunter2" ')).toThrow(/^credentials: not valid JSON$/);
  });

  test('the most specific rule wins; the environment is the last resort', () => {
    const r = new CredentialResolver(parseCredentials(JSON.stringify([
      { match: '*', username: 'any', password: 'a' },
      { match: '10.0.0.0/16', username: 'wide', password: 'b' },
      { match: '10.0.1.0/24', username: 'narrow', password: 'c' },
      { match: '10.0.1.5', username: 'host', password: 'd' },
      { match: '10.0.1.5:8443', username: 'hostport', password: 'e' },
    ])), { SKYBOOT_BMC_USERNAME: 'env', SKYBOOT_BMC_PASSWORD: 'f' });
    expect(r.resolve('10.0.1.5', 8443)?.username).toBe('hostport');
    expect(r.resolve('10.0.1.5', 443)?.username).toBe('host');
    expect(r.resolve('10.0.1.6', 443)?.username).toBe('narrow');
    expect(r.resolve('10.0.2.6', 443)?.username).toBe('wide');
    expect(r.resolve('192.168.0.1', 443)?.username).toBe('any');
    const envOnly = new CredentialResolver([], { SKYBOOT_BMC_USERNAME: 'env', SKYBOOT_BMC_PASSWORD: 'f' });
    expect(envOnly.resolve('bmc.example', 443)).toEqual({ username: 'env', password: 'f' });
    expect(new CredentialResolver([], {}).resolve('bmc.example', 443)).toBeUndefined();
  });

  test('stored encrypted: no plaintext on disk, key file 0600, round trip and merge', async () => {
    const dir = tempDir('skyboot-creds-');
    try {
      await storeCredentials(dir.path, [{ match: '*', username: 'root', password: 'Very-Secret-1' }]);
      await storeCredentials(dir.path, [{ match: '10.0.0.0/24', username: 'admin', password: 'Very-Secret-2' }, { match: '*', username: 'root', password: 'Very-Secret-3' }]);
      const enc = readFileSync(join(dir.path, 'redfish', 'credentials.enc'), 'utf8');
      for (const s of ['Very-Secret', 'root', 'admin']) expect(enc).not.toContain(s);
      expect(statSync(join(dir.path, 'redfish', 'credentials.key')).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir.path, 'redfish', 'credentials.enc')).mode & 0o777).toBe(0o600);
      const rules = await loadStoredCredentials(dir.path);
      expect(rules.map((r) => [r.match, r.password]).sort()).toEqual([['*', 'Very-Secret-3'], ['10.0.0.0/24', 'Very-Secret-2']]);
    } finally {
      dir.remove();
    }
  });

  test('a tampered store is refused, not half-read', async () => {
    const dir = tempDir('skyboot-creds-');
    try {
      await storeCredentials(dir.path, [{ match: '*', username: 'root', password: 'pw' }]);
      const file = join(dir.path, 'redfish', 'credentials.enc');
      const sealed = JSON.parse(readFileSync(file, 'utf8')) as { data: string };
      const bytes = Buffer.from(sealed.data, 'base64');
      bytes[0] = bytes[0]! ^ 1;
      sealed.data = bytes.toString('base64');
      const { writeFileSync } = await import('node:fs');
      writeFileSync(file, JSON.stringify(sealed));
      await expect(loadStoredCredentials(dir.path)).rejects.toThrow(/authenticate/);
    } finally {
      dir.remove();
    }
  });
});
