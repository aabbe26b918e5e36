/**
 * The boot script for a MAC, from the stored snapshot only (never a cloud call), rendered by the
 * shared renderer. A known node without a boot configuration and an unknown MAC both get the
 * unknown-MAC answer: the site's discovery image for the arch when one is configured, else a
 * bounded sleep-and-ask-again chain.
 */
import { renderBootScript, type BootTarget } from '../../../bootscript/render.js';
import type { SnapshotArch, SnapshotBoot } from '../../../schema/siteSnapshot.js';
import type { SnapshotIndex } from '../../sync/snapshotStore.js';

/** iPXE's ${buildarch} values → the inventory's Arch. */
export function archFromIpxe(buildarch: string | null): SnapshotArch {
  if (!buildarch) return 'X86';
  if (/^(x86_64|i386|x64|ia32|amd64)$/i.test(buildarch)) return 'X86';
  if (/^(arm64|aarch64|arm32|arm)$/i.test(buildarch)) return 'ARM';
  return 'OTHER';
}

function target(xname: string, nid: number | null, b: SnapshotBoot): BootTarget {
  return { xname, nid, kernel: b.kernel, initrd: b.initrd, rootfs: b.rootfs, rootfsProvider: b.rootfsProvider, kernelParameters: b.kernelParameters, matchedSelector: b.matchedSelector, imageId: b.imageId };
}

/**
 * What the iSCSI module adds for a node: its parameters (rd.iscsi.initiator, netroot), or why
 * the node must wait (its root is not exported yet), or nothing.
 */
export type NodeKernelParameters = (xname: string, boot: SnapshotBoot) => string | { wait: string } | undefined;

export interface BootScriptRequest {
  mac: string;
  agentBaseUrl: string;
  arch: SnapshotArch;
  attempt: number;
  extraKernelParameters?: NodeKernelParameters;
}

export function bootScriptFor(index: SnapshotIndex | null, req: BootScriptRequest): string {
  const node = index?.byMac.get(req.mac) ?? null;
  if (node?.boot) {
    const extra = req.extraKernelParameters?.(node.xname, node.boot);
    return renderBootScript({
      mac: req.mac,
      agentBaseUrl: req.agentBaseUrl,
      node: target(node.xname, node.nid, node.boot),
      ...(typeof extra === 'object' ? { wait: { reason: extra.wait, attempt: req.attempt } } : { extraKernelParameters: extra }),
    });
  }
  const discovery = index?.stored.snapshot.discovery?.find((d) => d.arch === (node?.arch ?? req.arch))?.boot;
  const message = !index ? 'cannot be looked up: this agent has no snapshot yet' : node ? `belongs to ${node.xname}, which has no boot configuration` : 'is not in the inventory of this site';
  return renderBootScript({
    mac: req.mac,
    agentBaseUrl: req.agentBaseUrl,
    node: null,
    unknown: {
      attempt: req.attempt,
      message,
      discovery: discovery && !node ? { kernel: discovery.kernel, initrd: discovery.initrd, kernelParameters: discovery.kernelParameters } : null,
    },
  });
}
