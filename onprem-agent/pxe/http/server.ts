/**
 * The agent's HTTP service for booting nodes. Everything is answered from local state: the
 * stored snapshot (boot scripts, cloud-init) and the verified artifact cache. This file only
 * dispatches: each concern is a route file (bootScriptRoute, artifactRoute, cloudInitRoute,
 * observationRoutes, ipxeRoute, statusRoute); node-scoped answers go through nodeScope.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { log } from '../../logger.js';
import { artifactRoutes } from './artifactRoute.js';
import { bootScriptRoutes } from './bootScriptRoute.js';
import { cloudInitRoutes } from './cloudInitRoute.js';
import { newHttpCounters, type HttpCounters } from './counters.js';
import { ipxeRoutes } from './ipxeRoute.js';
import { requesterAddress } from './nodeScope.js';
import { observationRoutes } from './observationRoutes.js';
import { TokenBuckets } from './rateLimit.js';
import { RefusalRecorder, RequestRefusedError } from './refusals.js';
import { HttpError, send } from './respond.js';
import type { AgentHttpOptions, HttpServices, Route } from './route.js';
import { statusRoutes } from './statusRoute.js';

export type { AgentHttpOptions } from './route.js';
export type { HttpCounters, RefusalReason } from './counters.js';
export type { LeaseTable } from './nodeScope.js';
export { requesterIsNode, bootCarriesSecrets } from './nodeScope.js';

/** Heartbeats every few seconds during a boot, a few phone-homes: 20 at once, then one per 2 s. */
export const DEFAULT_OBSERVATION_RATE = { burst: 20, perSecond: 0.5 };

/** The request target as a URL; one URL parsing rejects (`///`, `//[::1`) is the client's error, not a 500. */
function requestUrl(target: string): URL {
  try {
    return new URL(target, 'http://agent');
  } catch {
    throw new HttpError(400, `request target "${target.slice(0, 64)}" is not a valid URL`);
  }
}

export function createAgentHttpServer(opts: AgentHttpOptions): Server & { counters: HttpCounters } {
  const counters = newHttpCounters();
  const services: HttpServices = { opts, counters, observationBudget: new TokenBuckets(opts.observationRateLimit ?? DEFAULT_OBSERVATION_RATE) };
  const routes: Route[] = [
    ...bootScriptRoutes(services),
    ...ipxeRoutes(services),
    ...artifactRoutes(services),
    ...cloudInitRoutes(services),
    ...observationRoutes(services),
    ...statusRoutes(services),
  ];
  const refusals = new RefusalRecorder(counters);

  async function dispatch(req: IncomingMessage, res: ServerResponse, requester: string | null): Promise<void> {
    const url = requestUrl(req.url ?? '/');
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    for (const route of routes) {
      if (route.method !== method) continue;
      const m = route.pattern.exec(url.pathname);
      if (m) return route.handle({ req, res, url, params: m.slice(1), requester });
    }
    throw new HttpError(404, `no route for ${req.method} ${url.pathname}`);
  }

  const server = createServer((req, res) => {
    counters.requests++;
    const requester = requesterAddress(req);
    dispatch(req, res, requester).catch((err: Error) => {
      // An error may name its own status: a full outbox (OutboxFullError) is 503, retry later.
      const status = err instanceof HttpError ? err.status : (err as { httpStatus?: number }).httpStatus ?? ((err as { code?: string }).code === 'BAD_USER_INPUT' ? 400 : 500);
      if (err instanceof RequestRefusedError) refusals.record(err, requester, req.method, (req.url ?? '/').split('?')[0]!);
      else if (status === 404) counters.notFound++;
      else counters.errors++;
      if (status >= 500) log.error({ url: req.url, err: err.message }, 'http request failed');
      if (!res.headersSent) send(res, status, `${err.message}\n`, undefined, err instanceof HttpError ? err.headers : {});
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  return Object.assign(server, { counters });
}
