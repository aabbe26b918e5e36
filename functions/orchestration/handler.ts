/** The orchestration Lambda: power requests routed to site agents, and iSCSI session reports. */
import { domainHandler } from '../shared/handler.js';
import { orchestrationManifest } from './manifest.js';
import { claimPowerRequests, completePowerRequest, powerRequest, requestPower, type PowerResult } from './powerRequests.js';
import { componentIscsiSessions, imageIscsiSessions, reportIscsiSessions } from './iscsiSessions.js';
import { componentBootTimeline } from './bootTimeline.js';

export const handler = domainHandler(orchestrationManifest, {
  powerRequest: (a: { id: string }, ctx) => powerRequest(ctx, a),
  requestPower: (a: { xnames: string[]; action: string; site?: string | null }, ctx) => requestPower(ctx, a),
  claimPowerRequests: (a: { max?: number | null }, ctx) => claimPowerRequests(ctx, a),
  completePowerRequest: (a: { id: string; results: PowerResult[] }, ctx) => completePowerRequest(ctx, a),
  reportIscsiSessions: (a: Parameters<typeof reportIscsiSessions>[1], ctx) => reportIscsiSessions(ctx, a),
  componentIscsiSessions: (_a, ctx, source) => componentIscsiSessions(ctx, source),
  imageIscsiSessions: (_a, ctx, source) => imageIscsiSessions(ctx, source),
  componentBootTimeline: (a: { last?: number | null }, ctx, source) => componentBootTimeline(ctx, a, source),
});
