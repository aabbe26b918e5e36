import { renderBootScript, backoffDelays, bootif, bootTokenOfTarget, type BootTarget } from '../../../bootscript/render.js';
import { bootTokenFromCmdline } from '../../../bootscript/bootToken.js';
import { validateKernelParameters } from '../../../bootscript/kernelParameters.js';

const K = 'a'.repeat(64);
const I = 'b'.repeat(64);
const R = 'c'.repeat(64);
const MAC = 'aa:bb:cc:dd:ee:01';
const BASE = 'http://10.1.0.1:8080';

function node(over: Partial<BootTarget> = {}): BootTarget {
  return { xname: 'x1000c0s0b0n0', nid: 7, kernel: K, initrd: I, rootfs: R, rootfsProvider: 'HTTP', kernelParameters: 'console=ttyS0,115200 quiet', matchedSelector: 'xname:x1000c0s0b0n0', ...over };
}

describe('renderBootScript for a known node', () => {
  const script = renderBootScript({ mac: MAC, agentBaseUrl: `${BASE}/`, node: node() });
  const lines = script.split('\n');

  it('starts with #!ipxe and has exactly one header line', () => {
    expect(lines[0]).toBe('#!ipxe');
    expect(lines.filter((l) => l.startsWith('#!'))).toHaveLength(1);
  });

  it('puts BOOTIF, xname, nid, the HTTP root and the user parameters on the kernel line, with agent artifact URLs', () => {
    const kernel = lines.find((l) => l.startsWith('kernel '))!;
    expect(kernel).toBe(
      `kernel --name kernel ${BASE}/artifacts/sha256/${K} initrd=initrd BOOTIF=01-aa-bb-cc-dd-ee-01 xname=x1000c0s0b0n0 nid=7 ` +
        `root=live:${BASE}/artifacts/sha256/${R} console=ttyS0,115200 quiet skyboot.token=${bootTokenOfTarget(node())} || goto failed1`,
    );
    expect(lines).toContain(`initrd --name initrd ${BASE}/artifacts/sha256/${I} || goto failed1`);
    expect(lines).toContain('boot || goto failed1');
  });

  it('retries a bounded number of times with doubling sleeps, then gives up with a message and exit', () => {
    expect(backoffDelays()).toEqual([2, 4, 8, 16]);
    expect(lines.filter((l) => l.startsWith('sleep ')).map((l) => l)).toEqual(['sleep 2', 'sleep 4', 'sleep 8', 'sleep 16', 'sleep 10']);
    expect(lines.filter((l) => l.startsWith('kernel '))).toHaveLength(5);
    // Every goto points forward to a label that exists: no way back, so no infinite loop.
    const labels = new Map(lines.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith(':')).map(([l, i]) => [l.slice(1), i]));
    lines.forEach((l, i) => {
      const m = /goto (\S+)/.exec(l);
      if (m) expect(labels.get(m[1]!)).toBeGreaterThan(i);
    });
    expect(lines.at(-4)).toMatch(/^echo Skyboot: could not boot x1000c0s0b0n0 after 5 attempts/);
    expect(lines.at(-1)).toBe('');
    expect(lines.at(-2)).toBe('exit 1');
  });

  it('omits nid= when the node has none, and leaves an iSCSI marker without parameters in the preview', () => {
    const s = renderBootScript({ mac: MAC, agentBaseUrl: BASE, node: node({ nid: null, rootfsProvider: 'ISCSI' }) });
    expect(s).not.toMatch(/nid=/);
    expect(s).not.toMatch(/root=live/);
    expect(s).toMatch(/^# rootfs over iSCSI/m);
  });

  it('ends the kernel line with the node\'s boot token, which changes with the image and not with the agent\'s additions', () => {
    const token = (n: BootTarget, extra?: string): string | null => {
      const kernel = renderBootScript({ mac: MAC, agentBaseUrl: BASE, node: n, ...(extra ? { extraKernelParameters: extra } : {}) }).split('\n').find((l) => l.startsWith('kernel '))!;
      return bootTokenFromCmdline(kernel);
    };
    expect(token(node())).toBe(bootTokenOfTarget(node()));
    expect(token(node({ imageId: 'img-b' }))).not.toBe(token(node({ imageId: 'img-a' })));
    expect(token(node(), 'rd.neednet=1')).toBe(token(node()));
    expect(() => renderBootScript({ mac: MAC, agentBaseUrl: BASE, node: node({ kernelParameters: 'skyboot.token=0123456789abcdef0123' }) })).toThrow(/"skyboot\.token" at position 1 is reserved/);
  });

  it('appends the agent extra parameters (the iSCSI extension point), validated', () => {
    const s = renderBootScript({ mac: MAC, agentBaseUrl: BASE, node: node({ rootfsProvider: 'ISCSI' }), extraKernelParameters: 'rd.iscsi.initiator=iqn.2026-01.skyboot:x1 netroot=iscsi:10.0.0.1::::iqn.x:lun rd.neednet=1' });
    expect(s).toMatch(/ quiet rd\.iscsi\.initiator=iqn\.2026-01\.skyboot:x1 netroot=iscsi:10\.0\.0\.1::::iqn\.x:lun rd\.neednet=1 skyboot\.token=[0-9a-f]{20} \|\| goto failed1$/m);
    expect(() => renderBootScript({ mac: MAC, agentBaseUrl: BASE, node: node(), extraKernelParameters: 'a=1\nshell' })).toThrow(/extraKernelParameters: newline \(U\+000A\) at position 4/);
  });

  it('honours shell as the final action', () => {
    const s = renderBootScript({ mac: MAC, agentBaseUrl: BASE, node: node(), retry: { attempts: 2, finalAction: 'shell' } });
    expect(s.trimEnd().split('\n').at(-1)).toBe('shell');
    expect(s.match(/^kernel /gm)).toHaveLength(2);
  });

  it('computes BOOTIF from the MAC', () => {
    expect(bootif('00:11:22:33:44:55')).toBe('01-00-11-22-33-44-55');
  });
});

describe('kernel parameter injection', () => {
  const cases: [string, RegExp][] = [
    ['quiet\n#!ipxe\nshell', /newline \(U\+000A\) at position 6/],
    ['quiet\r\nshell', /carriage return \(U\+000D\) at position 6/],
    ['quiet\u0000x', /NUL \(U\+0000\) at position 6/],
    ['#!ipxe', /"#" at position 1/],
    ['a=1 #!ipxe', /"#" at position 5/],
    ['a=${root-path}', /"\$\{" at position 3/],
    ['a=1 || shell', /"\|\|" at position 5/],
    ['a=1 && shell', /"&&" at position 5/],
    ['a=1 ; shell', /";" at position 5/],
    ['a=1;shell', /";" at position 4/],
    ['a=\\x', /"\\" at position 3/],
    ['a=`x`', /"`" at position 3/],
    ['a=1\tb=2', /tab \(U\+0009\) at position 4/],
    ['a=é', /non-ASCII character "é" \(U\+00E9\) at position 3/],
    ['xname=x1', /"xname" at position 1 is reserved/],
    ['quiet BOOTIF=01-aa', /"BOOTIF" at position 7 is reserved/],
    ['a'.repeat(4097), /4097 characters long; the limit is 4096/],
  ];
  it.each(cases.map(([v, m]) => [v.length > 40 ? `${v.slice(0, 20)}… (${v.length} chars)` : v, v, m] as const))('refuses %j naming the character and position', (_label, value, message) => {
    expect(() => validateKernelParameters(value)).toThrow(message);
    expect(() => validateKernelParameters(value)).toThrow(/^kernelParameters: /);
    expect(() => renderBootScript({ mac: MAC, agentBaseUrl: BASE, node: node({ kernelParameters: value }) })).toThrow(message);
  });

  it('accepts ordinary parameters and collapses spaces', () => {
    expect(validateKernelParameters('  console=ttyS0,115200n8   ip=dhcp  rd.live.overlay.overlayfs=1 foo="a b" ')).toBe('console=ttyS0,115200n8 ip=dhcp rd.live.overlay.overlayfs=1 foo="a b"');
  });

  it('renders names from unvalidated sources (matched selector) as inert text', () => {
    const s = renderBootScript({ mac: MAC, agentBaseUrl: BASE, node: node({ matchedSelector: 'group:evil\n||shell ${x}' }) });
    const lines = s.split('\n');
    expect(lines[1]).toBe('# Skyboot boot script for x1000c0s0b0n0 (mac aa:bb:cc:dd:ee:01, matched group:evil???shell ??x?)');
    // Every line is one of the commands the renderer emits: nothing else can appear.
    for (const l of lines) expect(l).toMatch(/^(#!ipxe|# .*|:\w+|echo .*|kernel --name kernel .*|initrd --name initrd .*|boot \|\| goto failed\d|imgfree|sleep \d+|exit 1|)$/);
  });

  it('refuses an agent base URL with anything but host, port and path', () => {
    expect(() => renderBootScript({ mac: MAC, agentBaseUrl: 'http://a/${x}', node: node() })).toThrow(/agentBaseUrl/);
    expect(() => renderBootScript({ mac: MAC, agentBaseUrl: 'http://a/ b', node: node() })).toThrow(/agentBaseUrl/);
  });
});

describe('unknown MACs', () => {
  it('sleeps and chains back to the agent, bounded by maxAttempts', () => {
    const first = renderBootScript({ mac: MAC, agentBaseUrl: BASE, node: null }).split('\n');
    expect(first).toEqual([
      '#!ipxe',
      `# Skyboot: MAC ${MAC} is not in the inventory of this site`,
      `echo Skyboot: MAC ${MAC} is not in the inventory of this site (attempt 1 of 3), asking again in 30 s`,
      'sleep 30',
      `chain --replace --autofree ${BASE}/boot/v1/bootscript?mac=${MAC}&attempt=2 || goto failed`,
      ':failed',
      `echo Skyboot: could not reach the agent at ${BASE}.`,
      'sleep 10',
      'exit 1',
      '',
    ]);
    const last = renderBootScript({ mac: MAC, agentBaseUrl: BASE, node: null, unknown: { attempt: 3 } });
    expect(last).not.toMatch(/chain/);
    expect(last).toMatch(/is not in the inventory of this site after 3 attempts/);
  });

  it('boots the configured discovery image with BOOTIF', () => {
    const s = renderBootScript({ mac: MAC, agentBaseUrl: BASE, node: null, unknown: { discovery: { kernel: K, initrd: I, kernelParameters: 'skyboot.discovery=1' } } });
    expect(s).toMatch(new RegExp(`^kernel --name kernel ${BASE}/artifacts/sha256/${K} initrd=initrd BOOTIF=01-aa-bb-cc-dd-ee-01 skyboot.discovery=1 \\|\\| goto failed1$`, 'm'));
  });
});

describe('a known node that must wait (its iSCSI root is not exported yet)', () => {
  const iscsiNode: BootTarget = { xname: 'x1000c0s0b0n0', nid: 1, kernel: K, initrd: I, rootfs: R, rootfsProvider: 'ISCSI', kernelParameters: '' };
  it('says why, sleeps and asks again with the next attempt, and never names a root', () => {
    const s = renderBootScript({ mac: MAC, agentBaseUrl: BASE, node: iscsiNode, wait: { reason: `rootfs sha256:${R} is not in the cache yet`, attempt: 3 } });
    expect(s).toContain(`echo Skyboot: x1000c0s0b0n0 waits: rootfs sha256:${R} is not in the cache yet (attempt 3 of 20), asking again in 15 s`);
    expect(s).toContain(`chain --replace --autofree ${BASE}/boot/v1/bootscript?mac=${MAC}&attempt=4 || goto failed`);
    expect(s).not.toMatch(/^kernel /m);
    expect(s).not.toContain('netroot');
  });
  it('gives up after the last attempt with the reason, bounded', () => {
    const s = renderBootScript({ mac: MAC, agentBaseUrl: BASE, node: iscsiNode, wait: { reason: 'not exported; a;b #c', attempt: 20 } });
    expect(s).toContain('Gave up after 20 attempts');
    expect(s).not.toContain('chain ');
    // The reason is reduced to the safe set: no iPXE command can ride on it.
    expect(s).toContain('not exported? a?b ?c');
  });
});
