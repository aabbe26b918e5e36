/**
 * GET /cloud-init/<mac or xname>/meta-data|user-data|vendor-data: NoCloud data of one node, from
 * the snapshot, answered only to that node (user-data is where sites put secrets).
 */
import { assertRequesterIsNode } from './nodeScope.js';
import { nodeById } from './nodeLookup.js';
import { decodeSegment, HttpError, send } from './respond.js';
import type { HttpServices, Route } from './route.js';

export function cloudInitRoutes(s: HttpServices): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/cloud-init\/([^/]+)\/(meta-data|user-data|vendor-data)$/,
      handle: ({ res, params, requester }) => {
        const id = decodeSegment(params[0]!);
        const part = params[1]!;
        const index = s.opts.index();
        const node = nodeById(index, id);
        if (!node) throw new HttpError(404, `${id} is not a node of this site`);
        assertRequesterIsNode(requester, node, index, s.opts.leases, { id }, `cloud-init ${part} of ${node.xname}`);
        const ci = node.cloudInit;
        if (part === 'meta-data') {
          // JSON is YAML; cloud-init needs an instance-id, and the xname is the stable one.
          const md = { 'instance-id': node.xname, 'local-hostname': node.xname, ...(ci?.metaData ?? {}) };
          return send(res, 200, JSON.stringify(md) + '\n', 'text/yaml; charset=utf-8');
        }
        if (part === 'user-data') return send(res, 200, ci?.userData ?? '#cloud-config\n{}\n', 'text/plain; charset=utf-8');
        return send(res, 200, ci?.vendorData ? JSON.stringify(ci.vendorData) + '\n' : '#cloud-config\n{}\n', 'text/yaml; charset=utf-8');
      },
    },
  ];
}
