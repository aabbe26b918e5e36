/**
 * A site with real content behind a test gateway: a site and its agent token, nodes with MACs
 * (inventory, through GraphQL), an image whose artifacts are in S3 and verified by the images
 * domain's own finalizer logic, and boot configurations set by the boot domain's own code (it is
 * not routed by the gateway yet, so it is called in-process with an admin identity).
 */
import { createHash, randomBytes } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { TestGateway } from '../../support/gateway.js';
import type { OperationContext } from '../../../functions/shared/handler.js';
import { verifyArtifact } from '../../../functions/images/verify.js';
import { s3KeyFor } from '../../../functions/images/keys.js';
import { setBootConfiguration, type BootConfigurationInput } from '../../../functions/boot/configurations.js';

export interface Blob {
  bytes: Buffer;
  sha256: string;
  size: number;
}

export function blob(size: number): Blob {
  const bytes = randomBytes(size);
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex'), size };
}

export interface SiteFixture {
  site: string;
  agentToken: string;
  kernel: Blob;
  initrd: Blob;
  imageId: string;
  nodes: { xname: string; mac: string }[];
  setBoot(input: Omit<BootConfigurationInput, 'site'>): Promise<void>;
  /** Another READY image (for change and GC tests). */
  pushImage(name: string, kernel: Blob, initrd: Blob): Promise<string>;
}

function ok<T>(r: { data?: T | null; errors?: { message: string }[] }): T {
  if (r.errors?.length || !r.data) throw new Error(`GraphQL: ${JSON.stringify(r.errors)}`);
  return r.data;
}

export async function siteFixture(gw: TestGateway, site: string, opts: { kernelSize?: number; initrdSize?: number; imageName?: string } = {}): Promise<SiteFixture> {
  ok(await gw.gql(`mutation($n: String!) { createSite(input: { name: $n, domain: "test.skyboot" }) { site { name } } }`, { n: site }));
  const agentToken = await gw.token({ agentSite: site, subject: `agent-${site}` });
  const nodes = [
    { xname: 'x1000c0s0b0n0', mac: '02:00:00:00:00:01', ip: '10.1.0.1' },
    { xname: 'x1000c0s1b0n0', mac: '02:00:00:00:00:02', ip: '10.1.0.2' },
  ];
  ok(
    await gw.gql(`mutation($in: [ComponentInput!]!) { upsertComponents(input: $in) { components { xname } } }`, {
      in: nodes.map((n, i) => ({ xname: n.xname, site, role: 'COMPUTE', nid: i + 1, arch: 'X86', interfaces: [{ mac: n.mac, ipAddresses: [n.ip], network: 'hsn' }] })),
    }),
  );
  const c = gw.aws.clients;
  const ctx: OperationContext = { identity: { subject: 'fixture', roles: ['admin'], site: null }, requestId: 'fixture', clients: c };
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
  return { site, agentToken, kernel, initrd, imageId, nodes: nodes.map(({ xname, mac }) => ({ xname, mac })), setBoot, pushImage };
}
