/**
 * GET /boot/v1/bootscript?mac=M[&arch=][&attempt=]: the iPXE script for the node owning M. A
 * plain script is served by MAC to anyone (the PXE phase has nothing else to show); a script
 * that carries secrets only to the node itself (nodeScope.ts).
 */
import { bootTokenFor } from '../../../bootscript/bootToken.js';
import { isMac, normaliseMac } from '../../../schema/mac.js';
import type { SnapshotIndex } from '../../sync/snapshotStore.js';
import { archFromIpxe, bootScriptFor } from './bootScript.js';
import { assertRequesterIsNode, bootCarriesSecrets } from './nodeScope.js';
import { HttpError, send } from './respond.js';
import type { HttpServices, Route } from './route.js';

const MAX_RENDERED = 100_000;

export function bootScriptRoutes(s: HttpServices): Route[] {
  // Scripts are a pure function of (snapshot, MAC, base URL, arch, attempt): rendered once per
  // snapshot and kept until the snapshot object changes, so a boot storm costs a Map lookup.
  const rendered = new WeakMap<SnapshotIndex, Map<string, string>>();
  let noSnapshot = new Map<string, string>();
  const renderedFor = (index: SnapshotIndex | null): Map<string, string> => {
    if (!index) return noSnapshot.size > MAX_RENDERED ? (noSnapshot = new Map()) : noSnapshot;
    let m = rendered.get(index);
    if (!m || m.size > MAX_RENDERED) rendered.set(index, (m = new Map()));
    return m;
  };
  const carriesSecrets = s.opts.bootScriptCarriesSecrets ?? bootCarriesSecrets;

  return [
    {
      method: 'GET',
      pattern: /^\/boot\/v1\/bootscript$/,
      handle: ({ req, res, url, requester }) => {
        const raw = url.searchParams.get('mac');
        if (!raw || !isMac(raw)) throw new HttpError(400, 'mac: give the booting NIC, e.g. ?mac=${net0/mac}');
        const n = Number(url.searchParams.get('attempt') ?? '1');
        const attempt = Number.isInteger(n) && n > 0 && n < 1000 ? n : 1;
        const mac = normaliseMac(raw);
        const agentBaseUrl = s.opts.advertiseUrl ?? `http://${req.headers.host ?? '127.0.0.1'}`;
        const arch = archFromIpxe(url.searchParams.get('arch'));
        const index = s.opts.index();
        const node = index?.byMac.get(mac);
        if (node?.boot && carriesSecrets(node)) {
          assertRequesterIsNode(requester, node, index ?? null, s.opts.leases, { mac }, `the boot script of ${node.xname} carries secrets and`);
        }
        s.counters.bootScripts++;
        const memo = renderedFor(index ?? null);
        const key = `${mac}|${agentBaseUrl}|${arch}|${attempt}|${s.opts.bootScriptEpoch?.() ?? 0}`;
        let script = memo.get(key);
        if (script === undefined) {
          script = bootScriptFor(index ?? null, { mac, agentBaseUrl, arch, attempt, extraKernelParameters: s.opts.extraKernelParameters });
          memo.set(key, script);
        }
        if (node) {
          s.opts.timeline?.record({
            xname: node.xname,
            stage: 'http.script',
            at: new Date().toISOString(),
            detail: `${node.boot ? '' : 'no boot configuration, '}attempt ${attempt} from ${requester ?? '?'}`,
            ...(node.boot ? { bootToken: bootTokenFor(node.xname, node.boot) } : {}),
          });
        }
        send(res, 200, script);
      },
    },
  ];
}
