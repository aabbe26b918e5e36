/** GET /status: the agent's state, as `skyboot-agent status` shows it. */
import { send } from './respond.js';
import type { HttpServices, Route } from './route.js';

export function statusRoutes(s: HttpServices): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/status$/,
      handle: async ({ res }) => send(res, 200, JSON.stringify(await s.opts.status(), null, 2) + '\n', 'application/json'),
    },
  ];
}
