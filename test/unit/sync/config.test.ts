import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DATA_DIR, fromEnv, loadAgentConfig, loadDataDir, parseHostPort, resolveConfig } from '../../../onprem-agent/config.js';
import { BadUserInputError, NotFoundError } from '../../../schema/errors.js';
import { errorLine } from '../../../onprem-agent/run/commands.js';

describe('agent configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-config-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ cloud: 'http://file:4000', tokenFile: '/etc/t', http: '0.0.0.0:8080', dataDir: '/var/lib/a', syncInterval: 60 }));

  it('takes flags over environment over file', () => {
    const env = { SKYBOOT_AGENT_HTTP: '127.0.0.1:9000', SKYBOOT_AGENT_DATA_DIR: '/srv/env' };
    const c = loadAgentConfig({ config: file, dataDir: '/srv/flag' }, env);
    expect(c.cloud).toBe('http://file:4000');
    expect(c.http).toEqual({ address: '127.0.0.1', port: 9000 });
    expect(c.dataDir).toBe('/srv/flag');
    expect(c.syncIntervalMs).toBe(60_000);
    expect(c.dhcp.mode).toBe('off');
    expect(c.tftp).toBeNull();
  });

  it('reads list values and names from the environment', () => {
    expect(fromEnv({ SKYBOOT_AGENT_ISCSI_PORTAL: '10.0.0.1:3260, 10.0.0.2:3260', SKYBOOT_AGENT_TFTP_ROOT: '/usr/lib/ipxe' })).toEqual({
      iscsiPortal: ['10.0.0.1:3260', '10.0.0.2:3260'],
      tftpRoot: '/usr/lib/ipxe',
    });
  });

  it('parses addresses, with a default port where one applies', () => {
    expect(parseHostPort('10.0.0.2', 'tftp', 69)).toEqual({ address: '10.0.0.2', port: 69 });
    expect(parseHostPort('[::1]:8080', 'http')).toEqual({ address: '::1', port: 8080 });
    expect(() => parseHostPort('10.0.0.2', 'http')).toThrow(/ADDR:PORT/);
  });

  it.each([
    [{ dhcp: 'proxy' }, 'dhcpInterface'],
    [{ dhcp: 'full', dhcpAddress: '10.0.0.2' }, 'dhcpSubnet'],
    [{ dhcp: 'relay' }, 'dhcp'],
    [{ cloud: 'http://x' }, 'tokenEndpoint'],
    [{ cloud: 'http://x', tokenEndpoint: 'https://auth/oauth2/token', clientId: 'c' }, 'clientSecretFile'],
    [{ cloud: 'http://x', tokenEndpoint: 'not a url', clientId: 'c', clientSecretFile: '/s' }, 'tokenEndpoint'],
    [{ scope: 'skyboot/agent' }, 'scope'],
    [{ tftp: '127.0.0.1:69' }, 'tftpRoot'],
    [{ tftpWorkers: '0' }, 'tftpWorkers'],
    [{ tftpWorkers: '1.5' }, 'tftpWorkers'],
    [{ tftpWorkers: 'many' }, 'tftpWorkers'],
    [{ iscsi: 'iet' }, 'iscsi'],
    [{ syncInterval: '-1' }, 'syncInterval'],
  ])('refuses %j naming %s', (raw, field) => {
    expect(() => resolveConfig(raw)).toThrow(expect.objectContaining({ field }));
  });

  it('takes the TFTP workers from a flag, the environment or the file; none given is one per CPU (null)', () => {
    expect(resolveConfig({}).tftpWorkers).toBeNull();
    expect(loadAgentConfig({}, { SKYBOOT_AGENT_TFTP_WORKERS: '4' }).tftpWorkers).toBe(4);
    expect(resolveConfig({ tftpWorkers: 1 }).tftpWorkers).toBe(1);
  });

  it('takes the DHCP boot interfaces from the file or the environment (comma-separated), with or without dhcpAddress', () => {
    const f = join(dir, 'dhcp.json');
    writeFileSync(f, JSON.stringify({ dhcp: 'proxy', dhcpInterface: ['ens2', 'ens3'] }));
    expect(loadAgentConfig({ config: f }, {}).dhcp).toMatchObject({ mode: 'proxy', address: null, interfaces: ['ens2', 'ens3'] });
    expect(loadAgentConfig({}, { SKYBOOT_AGENT_DHCP: 'full', SKYBOOT_AGENT_DHCP_SUBNET: '10.0.0.0/24', SKYBOOT_AGENT_DHCP_INTERFACE: 'ens2, ens3' }).dhcp.interfaces).toEqual(['ens2', 'ens3']);
    expect(resolveConfig({ dhcp: 'proxy', dhcpAddress: '10.0.0.2' }).dhcp).toMatchObject({ address: '10.0.0.2', interfaces: [] });
    expect(resolveConfig({ dhcp: 'proxy', dhcpInterface: 'ens2' }).dhcp.interfaces).toEqual(['ens2']);
  });

  it('takes client credentials from the file or the environment, and keeps the token file as an option', () => {
    const env = { SKYBOOT_AGENT_CLOUD: 'https://api/graphql', SKYBOOT_AGENT_TOKEN_ENDPOINT: 'https://auth.example/oauth2/token', SKYBOOT_AGENT_CLIENT_ID: 'abc', SKYBOOT_AGENT_CLIENT_SECRET_FILE: '/etc/skyboot-agent/client.secret', SKYBOOT_AGENT_SCOPE: 'skyboot/agent skyboot/site.hpc1' };
    expect(loadAgentConfig({}, env)).toMatchObject({
      tokenFile: null,
      clientCredentials: { tokenEndpoint: 'https://auth.example/oauth2/token', clientId: 'abc', clientSecretFile: '/etc/skyboot-agent/client.secret', scope: 'skyboot/agent skyboot/site.hpc1' },
    });
    expect(resolveConfig({ cloud: 'http://x', tokenFile: '/etc/t' })).toMatchObject({ tokenFile: '/etc/t', clientCredentials: null });
  });

  it('refuses unknown keys in the file', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ clod: 'x' }));
    expect(() => loadAgentConfig({ config: bad }, {})).toThrow(/unknown key\(s\) clod/);
  });

  it('gives the data dir alone by the same precedence as the whole config, without validating the rest', () => {
    // A cloud without credentials stops `run`, not the commands that only need the data dir.
    const env = { SKYBOOT_AGENT_CLOUD: 'http://x', SKYBOOT_AGENT_CONFIG: file };
    expect(loadDataDir({}, env)).toBe('/var/lib/a');
    expect(loadDataDir({}, { ...env, SKYBOOT_AGENT_DATA_DIR: '/srv/env' })).toBe('/srv/env');
    expect(loadDataDir({ dataDir: 'rel' }, { ...env, SKYBOOT_AGENT_DATA_DIR: '/srv/env' })).toBe(join(process.cwd(), 'rel'));
    expect(loadDataDir({}, {})).toBe(DEFAULT_DATA_DIR);
    expect(loadAgentConfig({}, {}).dataDir).toBe(DEFAULT_DATA_DIR);
    expect(() => loadAgentConfig({}, { SKYBOOT_AGENT_CLOUD: 'http://x' })).toThrow(/tokenEndpoint/);
    expect(loadDataDir({}, { SKYBOOT_AGENT_CLOUD: 'http://x' })).toBe(DEFAULT_DATA_DIR);
  });

  it('names an error\'s field once', () => {
    expect(errorLine(new BadUserInputError('dhcpAddress', '10.9.9.9 is not on eth1'))).toBe('skyboot-agent: dhcpAddress: 10.9.9.9 is not on eth1');
    expect(errorLine(new NotFoundError('interface', 'eth9', 'dhcpInterface'))).toBe('skyboot-agent: dhcpInterface: interface eth9 not found');
    expect(errorLine(new Error('plain'))).toBe('skyboot-agent: plain');
  });
});
