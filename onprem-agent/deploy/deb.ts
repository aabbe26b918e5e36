/**
 * `npm run build:deb`: the agent as a Debian package, dist/skyboot-agent_<version>_all.deb,
 * built with dpkg-deb from the single-file bundle (build.ts). It holds:
 *   /opt/skyboot-agent/skyboot-agent.mjs     the bundle (every npm dependency inlined)
 *   /usr/bin/skyboot-agent                    a symlink to it
 *   /lib/systemd/system/skyboot-agent.service the unit (deploy/skyboot-agent.service)
 *   /etc/skyboot-agent/config.json            a default configuration (a conffile: upgrades keep edits)
 *   /usr/share/doc/skyboot-agent/             agent.md (the unit's Documentation=), copyright
 *   /usr/share/man/man1/skyboot-agent.1.gz    the man page (docs/man, generated from the commands)
 * Architecture `all`: the bundle is JavaScript; Node.js comes from the site's own packages.
 */
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { buildAgent } from './build.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);

export const DEB_PACKAGE = 'skyboot-agent';

/**
 * Offline until edited: with no `cloud` the agent serves from its stored snapshot, and with DHCP
 * off it answers no broadcast on a NIC nobody chose. onprem-agent/deploy/README.md says what to add.
 */
export const DEFAULT_AGENT_CONFIG = {
  dataDir: '/var/lib/skyboot-agent',
  http: '0.0.0.0:8080',
  tftp: '0.0.0.0:69',
  tftpRoot: '/usr/lib/ipxe',
  dhcp: 'off',
  iscsi: 'off',
};

/** The lowest Node.js the bundle runs on (package.json engines). */
function nodeFloor(): string {
  const engines = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines?: { node?: string } }).engines?.node ?? '';
  const m = /(\d+(?:\.\d+)*)/.exec(engines);
  if (!m) throw new Error(`package.json engines.node "${engines}" names no version`);
  return m[1]!;
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

function installedKiB(dir: string): number {
  let bytes = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) bytes += statSync(p).size;
    }
  };
  walk(dir);
  return Math.ceil(bytes / 1024);
}

function put(path: string, body: string | Buffer, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, body);
  chmodSync(path, mode);
}

// The repository commits no licence file yet; the package says so rather than invent one.
const COPYRIGHT = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: skyboot

Files: *
Copyright: Skyboot developers
License: none-granted
 No licence is granted yet: the repository commits no licence file. Bundled npm
 dependencies keep their own licences.
`;

const POSTINST = `#!/bin/sh
set -e
# Not enabled or started here: the default configuration is offline until a site edits it
# (onprem-agent/deploy/README.md). A running systemd learns of the unit at once.
if [ "$1" = "configure" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
fi
`;

const PRERM = `#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = "remove" ]; then
  systemctl stop skyboot-agent.service || true
fi
`;

const POSTRM = `#!/bin/sh
set -e
# Purge removes the agent's state (snapshot, artifact cache, outbox, leases); remove keeps it.
if [ "$1" = "purge" ]; then
  rm -rf /var/lib/skyboot-agent
fi
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
fi
`;

export async function buildDeb(outDir = join(root, 'dist')): Promise<{ file: string; bytes: number; version: string }> {
  const version = packageVersion();
  const stage = mkdtempSync(join(tmpdir(), 'skyboot-deb-'));
  chmodSync(stage, 0o755); // the archive's ./ entry: mkdtemp makes it 0700
  try {
    await buildAgent(join(stage, 'opt', 'skyboot-agent', 'skyboot-agent.mjs'));
    mkdirSync(join(stage, 'usr', 'bin'), { recursive: true });
    symlinkSync('/opt/skyboot-agent/skyboot-agent.mjs', join(stage, 'usr', 'bin', 'skyboot-agent'));
    put(join(stage, 'lib', 'systemd', 'system', 'skyboot-agent.service'), readFileSync(join(root, 'onprem-agent', 'deploy', 'skyboot-agent.service')));
    put(join(stage, 'etc', 'skyboot-agent', 'config.json'), `${JSON.stringify(DEFAULT_AGENT_CONFIG, null, 2)}\n`);
    const doc = join(stage, 'usr', 'share', 'doc', DEB_PACKAGE);
    mkdirSync(doc, { recursive: true });
    copyFileSync(join(root, 'docs', 'agent.md'), join(doc, 'agent.md'));
    put(join(doc, 'copyright'), COPYRIGHT);
    put(join(stage, 'usr', 'share', 'man', 'man1', 'skyboot-agent.1.gz'), gzipSync(readFileSync(join(root, 'docs', 'man', 'skyboot-agent.1')), { level: 9 }));

    const control = [
      `Package: ${DEB_PACKAGE}`,
      `Version: ${version}`,
      'Architecture: all',
      'Maintainer: Skyboot developers <skyboot@example.org>',
      `Installed-Size: ${installedKiB(stage)}`,
      `Depends: nodejs (>= ${nodeFloor()}), iproute2`,
      // tgt for iSCSI roots (the default backend), ipxe for the TFTP root the default config names.
      'Recommends: tgt, ipxe',
      'Suggests: targetcli-fb',
      'Section: admin',
      'Priority: optional',
      'Description: Skyboot on-prem agent: PXE, Redfish and iSCSI for a site',
      ' Serves a site\'s nodes from a local cache of the Skyboot cloud\'s snapshot:',
      ' DHCP/ProxyDHCP, TFTP and HTTP iPXE, Redfish discovery and power, iSCSI',
      ' export of root images, and the rolling-reboot operator.',
      '',
    ].join('\n');
    put(join(stage, 'DEBIAN', 'control'), control);
    put(join(stage, 'DEBIAN', 'conffiles'), '/etc/skyboot-agent/config.json\n');
    put(join(stage, 'DEBIAN', 'postinst'), POSTINST, 0o755);
    put(join(stage, 'DEBIAN', 'prerm'), PRERM, 0o755);
    put(join(stage, 'DEBIAN', 'postrm'), POSTRM, 0o755);

    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, `${DEB_PACKAGE}_${version}_all.deb`);
    // --root-owner-group: files are root's on the site whoever built the package.
    await run('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', stage, file]).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' ? new Error('dpkg-deb not found on PATH (Debian package dpkg)') : err;
    });
    return { file, bytes: statSync(file).size, version };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { file, bytes } = await buildDeb(process.argv[2]);
  process.stdout.write(`${file} (${(bytes / 1024 / 1024).toFixed(1)} MiB)\n`);
}
