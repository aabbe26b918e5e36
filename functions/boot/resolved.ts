/** bootConfigurationFor and bootScript: facts → resolution → view or rendered iPXE script. */
import { NotFoundError } from '../../schema/errors.js';
import { renderBootScript } from '../../bootscript/render.js';
import type { OperationContext } from '../shared/handler.js';
import type { BootPayload } from '../../schema/bootPayload.js';
import { canRead } from '../shared/identity.js';
import { bootConfiguration, siteFor, type BootConfigurationView } from './configurations.js';
import { dynamoNodeFacts, type NodeFacts, type NodeFactsRecord } from './nodeFacts.js';
import { getBindings, resolveNode, type Resolution } from './resolve.js';

export interface ResolvedView extends BootPayload {
  xname: string;
  site: string;
  matchedSelector: string;
  matchedKind: string;
  matchedValue: string;
  configuration: BootConfigurationView;
  candidates: string[];
}

/** Tests and the bench substitute facts; the Lambda reads the inventory's items. */
let factsSource: ((ctx: OperationContext) => NodeFacts) | null = null;
export function useNodeFacts(source: ((ctx: OperationContext) => NodeFacts) | null): void {
  factsSource = source;
}
function facts(ctx: OperationContext): NodeFacts {
  return factsSource ? factsSource(ctx) : dynamoNodeFacts(ctx.clients);
}

function visible(ctx: OperationContext, f: NodeFactsRecord | null): f is NodeFactsRecord {
  return !!f && canRead(ctx.identity, f.site);
}

async function toResolvedView(ctx: OperationContext, f: NodeFactsRecord, r: Resolution): Promise<ResolvedView> {
  const configuration = await bootConfiguration({ id: r.binding.configId }, ctx);
  if (!configuration) throw new NotFoundError('boot configuration', r.binding.configId);
  const b = r.binding;
  return {
    xname: f.xname,
    site: f.site,
    matchedSelector: r.matchedSelector,
    matchedKind: r.matchedKind,
    matchedValue: r.matchedValue,
    configuration,
    imageId: b.imageId ?? null,
    kernel: b.kernel,
    initrd: b.initrd ?? null,
    rootfs: b.rootfs ?? null,
    kernelParameters: b.kernelParameters,
    rootfsProvider: b.rootfsProvider ?? null,
    candidates: r.candidates,
  };
}

export async function bootConfigurationFor(args: { xname: string; site?: string | null }, ctx: OperationContext): Promise<ResolvedView | null> {
  const site = siteFor(ctx, args.site);
  const f = await facts(ctx).byXname(site, args.xname);
  if (!visible(ctx, f)) throw new NotFoundError('component', `${args.xname} in site ${site}`, 'xname');
  const r = await resolveNode(ctx.clients, f);
  return r ? toResolvedView(ctx, f, r) : null;
}

export const DEFAULT_PREVIEW_AGENT_URL = 'http://skyboot-agent.local:8080';

export async function bootScript(args: { mac: string; agentBaseUrl?: string | null; site?: string | null; arch?: string | null }, ctx: OperationContext): Promise<string> {
  const agentBaseUrl = args.agentBaseUrl ?? process.env.SKYBOOT_PREVIEW_AGENT_URL ?? DEFAULT_PREVIEW_AGENT_URL;
  const site = siteFor(ctx, args.site);
  const f = await facts(ctx).byMac(site, args.mac);
  if (visible(ctx, f)) {
    const r = await resolveNode(ctx.clients, f, args.mac);
    if (r) {
      const b = r.binding;
      return renderBootScript({
        mac: args.mac,
        agentBaseUrl,
        node: { xname: f.xname, nid: f.nid, kernel: b.kernel, initrd: b.initrd ?? null, rootfs: b.rootfs ?? null, rootfsProvider: b.rootfsProvider ?? null, kernelParameters: b.kernelParameters, matchedSelector: r.matchedSelector, imageId: b.imageId ?? null },
      });
    }
    return renderBootScript({ mac: args.mac, agentBaseUrl, node: null, unknown: { message: `belongs to ${f.xname}, which has no boot configuration` } });
  }
  // Unknown MAC: the site's discovery configuration for the arch, else the sleep-and-ask-again chain.
  const arch = args.arch ?? 'X86';
  const found = (await getBindings(ctx.clients, site, [`UNKNOWN#${arch}`])).get(`UNKNOWN#${arch}`);
  return renderBootScript({
    mac: args.mac,
    agentBaseUrl,
    node: null,
    unknown: found ? { discovery: { kernel: found.kernel, initrd: found.initrd ?? null, kernelParameters: found.kernelParameters } } : {},
  });
}
