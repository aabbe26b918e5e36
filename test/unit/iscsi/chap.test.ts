import { mkdtemp, readFile, rm, stat, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { accountForUser, CHAP_FILE, generateChapSecret, loadOrCreateChapSecrets, nodeChapAccount, Secret } from '../../../onprem-agent/iscsi/chap.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skyboot-chap-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('CHAP secrets', () => {
  it('are 16 random letters and digits', () => {
    const a = generateChapSecret().reveal();
    expect(a).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(generateChapSecret().reveal()).not.toBe(a);
  });

  it('print as [redacted] in JSON, template strings and util.inspect', () => {
    const s = new Secret('TopSecret12345');
    expect(JSON.stringify({ s })).toBe('{"s":"[redacted]"}');
    expect(`${s}`).toBe('[redacted]');
    expect(inspect({ s })).not.toContain('TopSecret');
  });

  it('are created once per site in a 0600 file and read back unchanged; mutual adds the target secret', async () => {
    const one = await loadOrCreateChapSecrets(dir, 'one-way', 'site1');
    expect(one.policy).toEqual({ mode: 'one-way', user: 'skyboot-site1' });
    expect((await stat(join(dir, CHAP_FILE))).mode & 0o777).toBe(0o600);
    const again = await loadOrCreateChapSecrets(dir, 'one-way', 'site1');
    expect(again.secret.reveal()).toBe(one.secret.reveal());
    const mutual = await loadOrCreateChapSecrets(dir, 'mutual', 'site1');
    expect(mutual.secret.reveal()).toBe(one.secret.reveal());
    expect(mutual.policy).toEqual({ mode: 'mutual', user: 'skyboot-site1', mutualUser: 'skyboot-site1-target' });
    expect(mutual.mutualSecret!.reveal()).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(JSON.parse(await readFile(join(dir, CHAP_FILE), 'utf8'))).toMatchObject({ secret: one.secret.reveal(), mutualSecret: mutual.mutualSecret!.reveal() });
  });

  it('tightens a secrets file that lost its mode', async () => {
    await loadOrCreateChapSecrets(dir, 'one-way');
    await chmod(join(dir, CHAP_FILE), 0o644);
    await loadOrCreateChapSecrets(dir, 'one-way');
    expect((await stat(join(dir, CHAP_FILE))).mode & 0o777).toBe(0o600);
  });

  it('derives one secret per node from the site key: the same on every agent holding the key, different across nodes and keys', () => {
    const site = (key: string) => ({ policy: { mode: 'one-way' as const, user: 'skyboot-site1' }, secret: new Secret(key) });
    const a = nodeChapAccount(site('AbcdEfgh2345Jkmn'), 'x1000c0s0b0n0');
    expect(a.user).toBe('skyboot-site1.x1000c0s0b0n0');
    expect(a.secret.reveal()).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(nodeChapAccount(site('AbcdEfgh2345Jkmn'), 'x1000c0s0b0n0').secret.reveal()).toBe(a.secret.reveal());
    expect(nodeChapAccount(site('AbcdEfgh2345Jkmn'), 'x1000c0s0b0n1').secret.reveal()).not.toBe(a.secret.reveal());
    expect(nodeChapAccount(site('ZyxwVuts9876Qrst'), 'x1000c0s0b0n0').secret.reveal()).not.toBe(a.secret.reveal());
    expect(accountForUser(site('AbcdEfgh2345Jkmn'), a.user)!.secret.reveal()).toBe(a.secret.reveal());
    expect(accountForUser(site('AbcdEfgh2345Jkmn'), 'skyboot-site2.x1000c0s0b0n0')).toBeNull();
    expect(JSON.stringify(a)).not.toContain(a.secret.reveal());
  });
});
