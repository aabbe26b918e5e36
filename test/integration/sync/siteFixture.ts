/**
 * A site with real content behind a test gateway: a site and its agent token, nodes with MACs
 * (inventory, through GraphQL), an image whose artifacts are in S3 and verified by the images
 * domain's own finalizer logic, and boot configurations set by the boot domain's own code (it is
 * not routed by the gateway yet, so it is called in-process with an admin identity).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { TestGateway } from '../../support/gateway.js';
import { clientCredentialsToken } from '../../support/oauthBrowser.js';
import type { OperationContext } from '../../../functions/shared/handler.js';
import { verifyArtifact } from '../../../functions/images/verify.js';
import { s3KeyFor } from '../../../functions/images/keys.js';
import { setBootConfiguration, type BootConfigurationInput } from '../../../functions/boot/configurations.js';

export interface Blob {
  bytes: Buffer;
  sha256: string;
  size: number;
}

function blobOf(bytes: Buffer): Blob {
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
}

export function blob(size: number): Blob {
  return blobOf(randomBytes(size));
}

/** A real file as an artifact (a kernel from /boot, an initramfs built by the test). */
export function fileBlob(path: string): Blob {
  return blobOf(readFileSync(path));
}

export interface AgentClient {
  clientId: string;
  clientSecret: string;
  tokenEndpoint: string;
  scopes: string[];
}

export interface SiteFixture {
  site: string;
  /** createSite's agent credentials for this site. */
  agentClient: AgentClient;
  /** A client-credentials token of that client (lives SKYBOOT_TOKEN_TTL_SECONDS). */
  agentToken: string;
  kernel: Blob;
  initrd: Blob;
  imageId: string;
  nodes: { xname: string; mac: string; ip: string }[];
  setBoot(input: Omit<BootConfigurationInput, 'site'>): Promise<void>;
  /** Another READY image (for change and GC tests). */
  pushImage(name: string, kernel: Blob, initrd: Blob): Promise<string>;
}

function ok<T>(r: { data?: T | null; errors?: { message: string }[] }): T {
  if (r.errors?.length || !r.data) throw new Error(`GraphQL: ${JSON.stringify(r.errors)}`);
  return r.data;
}

export interface SiteFixtureOptions {
  kernelSize?: number;
  initrdSize?: number;
  /**
   * The two nodes' inventory IPs (default 10.1.0.1 and 10.1.0.2). Tests that make requests as
   * the nodes give loopback addresses (127.0.0.x) and send from them (test/support/httpFrom.ts).
   */
  nodeAddresses?: [string, string];
  /** The name of the fixture's first image (default compute). */
  imageName?: string;
}

export async function siteFixture(gw: TestGateway, site: string, opts: SiteFixtureOptions = {}): Promise<SiteFixture> {
  const created = ok(
    await gw.gql<{ createSite: { agentCredentials: AgentClient } }>(
      `mutation($n: String!) { createSite(input: { name: $n, domain: "test.skyboot" }) { site { name } agentCredentials { clientId clientSecret tokenEndpoint scopes } } }`,
      { n: site },
    ),
  );
  // The site's own agent client, as createSite hands it out; the token is fetched as its agent would.
  const agentClient = created.createSite.agentCredentials;
  const agentToken = await clientCredentialsToken(agentClient.tokenEndpoint, agentClient.clientId, agentClient.clientSecret);
  const [ip0, ip1] = opts.nodeAddresses ?? ['10.1.0.1', '10.1.0.2'];
  const nodes = [
    { xname: 'x1000c0s0b0n0', mac: '02:00:00:00:00:01', ip: ip0 },
    { xname: 'x1000c0s1b0n0', mac: '02:00:00:00:00:02', ip: ip1 },
  ];
  ok(
    await gw.gql(`mutation($in: [ComponentInput!]!) { upsertComponents(input: $in) { created updated unchanged failed errors { path message } } }`, {
      in: nodes.map((n, i) => ({ xname: n.xname, site, role: 'COMPUTE', nid: i + 1, arch: 'X86', interfaces: [{ mac: n.mac, ipAddresses: [n.ip], network: 'hsn' }] })),
    }),
  );
  const c = gw.aws.clients;
  const ctx: OperationContext = { identity: { subject: 'fixture', roles: ['admin'], site: null }, requestId: 'fixture', clients: c, access: 'write' };
  const pushImage = async (name: string, kernel: Blob, initrd: Blob): Promise<string> => {
    const created = ok(
      await gw.gql<{ createImage: { image: { id: string } } }>(
        `mutation($in: CreateImageInput!) { createImage(input: $in) { image { id } } }`,
        { in: { name, version: '1', arch: 'X86', artifacts: [{ type: 'KERNEL', size: kernel.size, sha256: kernel.sha256 }, { type: 'INITRD', size: initrd.size, sha256: initrd.sha256 }] } },
      ),
    );
    for (const b of [kernel, initrd]) {
      await c.s3.send(new PutObjectCommand({ Bucket: c.config.bucketName, Key: s3KeyFor(b.sha256), Body: b.bytes }));
      const v = await verifyArtifact(c, c.config.bucketName, b.sha256);
      if (v.status !== 'READY') throw new Error(`fixture artifact ${b.sha256}: ${JSON.stringify(v)}`);
    }
    return created.createImage.image.id;
  };
  const kernel = blob(opts.kernelSize ?? 200 * 1024);
  const initrd = blob(opts.initrdSize ?? 300 * 1024);
  const imageId = await pushImage(opts.imageName ?? 'compute', kernel, initrd);
  const setBoot = async (input: Omit<BootConfigurationInput, 'site'>) => {
    await setBootConfiguration({ input: { ...input, site } }, ctx);
  };
  await setBoot({ selector: { roles: ['COMPUTE'] }, imageId, kernelParameters: 'console=ttyS0' });
  return { site, agentClient, agentToken, kernel, initrd, imageId, nodes, setBoot, pushImage };
}
