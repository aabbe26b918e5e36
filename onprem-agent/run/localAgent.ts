/**
 * The demo agent `npm start` runs for site `local`, with OAuth client credentials: DHCP off, HTTP and TFTP on 127.0.0.1 only,
 * state under the stack's data dir. The TFTP root is Debian's ipxe package directory when it
 * exists; without it TFTP stays off (the HTTP side still serves scripts and artifacts).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig } from '../config.js';
import { startAgent, type RunningAgent } from './agent.js';

export interface LocalStackLike {
  graphqlUrl: string;
  dataDir: string;
  /** The site's agent client (client credentials), as the stack registered it. */
  agentClient: { tokenEndpoint: string; clientId: string; clientSecretFile: string; scope: string };
}

export async function startLocalAgent(stack: LocalStackLike, opts: { httpPort?: number; tftpPort?: number; tftpRoot?: string } = {}): Promise<RunningAgent> {
  const dataDir = join(stack.dataDir, 'agent');
  mkdirSync(dataDir, { recursive: true });
  const tftpRoot = opts.tftpRoot ?? (existsSync('/usr/lib/ipxe') ? '/usr/lib/ipxe' : null);
  return startAgent(
    resolveConfig({
      cloud: stack.graphqlUrl,
      tokenEndpoint: stack.agentClient.tokenEndpoint,
      clientId: stack.agentClient.clientId,
      clientSecretFile: stack.agentClient.clientSecretFile,
      scope: stack.agentClient.scope,
      dataDir,
      http: `127.0.0.1:${opts.httpPort ?? 8080}`,
      tftp: tftpRoot ? `127.0.0.1:${opts.tftpPort ?? 6969}` : 'off',
      tftpRoot,
      dhcp: 'off',
      iscsi: 'off',
      syncInterval: 10,
    }),
  );
}
