/**
 * POST /heartbeat and POST /cloud-init[/<id>]/phone-home: a node's own observations, made
 * durable in the outbox before the node hears "accepted". Each is answered only for the node the
 * requester is (nodeScope.ts), within a per-address budget (429 with Retry-After) and a body cap
 * (413). A MAC no inventory node has is accepted only from the address this agent leased to it
 * (a machine booting the discovery image); anything else naming no node is refused.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { SnapshotNode } from '../../../schema/siteSnapshot.js';
import { isBootToken } from '../../../bootscript/bootToken.js';
import { isMac, normaliseMac } from '../../../schema/mac.js';
import { isXName, normaliseXName } from '../../../schema/xname.js';
import { MAX_OBSERVATION_BODY, parseObject, readBody } from './body.js';
import { assertRequesterIsNode, nodeAtAddress } from './nodeScope.js';
import { RequestRefusedError, type Claim } from './refusals.js';
import { decodeSegment, HttpError, sendJson } from './respond.js';
import type { HttpServices, Route, RouteRequest } from './route.js';

const OBS_KEY = /^[\w.:-]{1,128}$/;

type Kind = 'heartbeat' | 'cloudinit.phoneHome';

export function observationRoutes(s: HttpServices): Route[] {
  const maxBody = s.opts.maxObservationBody ?? MAX_OBSERVATION_BODY;

  const spendBudget = (requester: string | null, what: string): void => {
    const took = s.observationBudget.take(requester ?? '-');
    if (!took.ok) {
      throw new RequestRefusedError(429, 'rate-limited', `${what} from ${requester ?? 'this address'}: too many, retry after ${took.retryAfterSeconds} s`, null, { 'retry-after': String(took.retryAfterSeconds) });
    }
  };

  /** The node the body claims (xname first, then MAC), checked against the requester. */
  const resolve = (r: RouteRequest, kind: Kind, named: string | null, mac: string | null): SnapshotNode | null => {
    const index = s.opts.index();
    const claimed: Claim = { xname: named, mac };
    const byName = named ? index?.byXname.get(named) ?? null : null;
    const byMac = mac ? index?.byMac.get(mac) ?? null : null;
    const what = kind === 'heartbeat' ? 'a heartbeat' : 'a phone-home';
    if (byName && byMac && byName !== byMac) throw new RequestRefusedError(403, 'conflicting-claim', `${what} names ${byName.xname} and MAC ${mac}, which is ${byMac.xname}'s`, claimed);
    const node = byName ?? byMac;
    if (node) {
      assertRequesterIsNode(r.requester, node, index, s.opts.leases, claimed, `${what} for ${node.xname}`);
      return node;
    }
    // Not in the inventory: only a machine this agent leased an address to, from that address.
    if (mac && r.requester && s.opts.leases?.boundAddresses(mac).includes(r.requester)) return null;
    const who = [named && `xname ${named}`, mac && `MAC ${mac}`].filter(Boolean).join(' and ') || 'no node';
    throw new RequestRefusedError(403, 'unknown-node', `${what} names ${who}: not a node of this site, and no address this agent leased to ${r.requester ?? 'the requester'}`, claimed);
  };

  const accept = async (kind: Kind, r: RouteRequest, body: Record<string, unknown>, node: SnapshotNode | null, named: string | null, mac: string | null): Promise<void> => {
    const key = typeof body.idempotencyKey === 'string' && OBS_KEY.test(body.idempotencyKey) ? body.idempotencyKey : `${kind === 'heartbeat' ? 'hb' : 'ph'}-${randomUUID()}`;
    const payload: Record<string, unknown> = { ...body, xname: node?.xname ?? named, mac, remoteAddress: r.requester, receivedAt: new Date().toISOString() };
    delete payload.idempotencyKey;
    // Durable before the node hears "accepted": the outbox fsyncs the entry.
    await s.opts.outbox.enqueue(kind, payload, key);
    if (kind === 'heartbeat') {
      s.counters.heartbeats++;
      if (node) {
        const token = typeof body.bootToken === 'string' ? body.bootToken : undefined;
        s.opts.timeline?.record({ xname: node.xname, stage: 'heartbeat', at: payload.receivedAt as string, detail: `from ${r.requester ?? '?'}`, ...(token ? { bootToken: token } : {}) });
      }
    } else s.counters.phoneHomes++;
    sendJson(r.res, 202, { accepted: true, idempotencyKey: key });
  };

  /** The body's xname and MAC, normalised; present but malformed is the client's error. */
  const claims = (body: Record<string, unknown>, what: string): { mac: string | null; named: string | null } => {
    if (body.mac !== undefined && !(typeof body.mac === 'string' && isMac(body.mac))) throw new HttpError(400, `${what}.mac: ${JSON.stringify(body.mac).slice(0, 64)} is not a MAC address`);
    if (body.xname !== undefined && !(typeof body.xname === 'string' && isXName(body.xname))) throw new HttpError(400, `${what}.xname: ${JSON.stringify(body.xname).slice(0, 64)} is not an xname`);
    return { mac: typeof body.mac === 'string' ? normaliseMac(body.mac) : null, named: typeof body.xname === 'string' ? normaliseXName(body.xname) : null };
  };

  const readObject = async (req: IncomingMessage) => parseObject(await readBody(req, maxBody), req.headers['content-type']);

  const phoneHome = async (r: RouteRequest): Promise<void> => {
    spendBudget(r.requester, 'phone-home');
    const body = await readObject(r.req);
    const raw = r.params[0];
    const id = raw === undefined ? undefined : decodeSegment(raw);
    if (id && body.xname === undefined && body.mac === undefined) body[isMac(id) ? 'mac' : 'xname'] = id;
    const claimed = claims(body, 'phone-home');
    const mac = claimed.mac;
    let named = claimed.named;
    // cloud-init's phone_home posts instance_id, which our meta-data sets to the xname.
    if (!mac && !named && typeof body.instance_id === 'string' && isXName(body.instance_id)) named = normaliseXName(body.instance_id);
    if (!mac && !named) {
      // Nothing named: the node is whoever owns the requester's inventory address.
      const owner = nodeAtAddress(s.opts.index(), r.requester);
      if (!owner) throw new RequestRefusedError(403, 'unknown-node', `a phone-home names no node, and ${r.requester ?? 'the requester'} is no node's inventory address`, null);
      named = owner.xname;
    }
    await accept('cloudinit.phoneHome', r, body, resolve(r, 'cloudinit.phoneHome', named, mac), named, mac);
  };

  return [
    { method: 'POST', pattern: /^\/cloud-init\/phone-home$/, handle: phoneHome },
    { method: 'POST', pattern: /^\/cloud-init\/([^/]+)\/phone-home$/, handle: phoneHome },
    {
      method: 'POST',
      pattern: /^\/heartbeat$/,
      handle: async (r) => {
        spendBudget(r.requester, 'heartbeats');
        const body = await readObject(r.req);
        if (body.mac === undefined && body.xname === undefined) throw new HttpError(400, 'heartbeat: give mac or xname');
        const { mac, named } = claims(body, 'heartbeat');
        if (body.bootToken !== undefined && !isBootToken(body.bootToken)) {
          throw new HttpError(400, `heartbeat.bootToken: ${JSON.stringify(body.bootToken).slice(0, 64)} is not a boot token (20 lower-case hex characters, the value of skyboot.token= on the kernel command line)`);
        }
        await accept('heartbeat', r, body, resolve(r, 'heartbeat', named, mac), named, mac);
      },
    },
  ];
}
