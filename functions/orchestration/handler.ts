/** The orchestration Lambda: power requests routed to site agents, iSCSI session reports, and boot templates, sessions and their claims. */
import { domainHandler } from '../shared/handler.js';
import { orchestrationManifest } from './manifest.js';
import { claimPowerRequests, completePowerRequest, powerRequest, powerRequests, requestPower, type PowerResult } from './powerRequests.js';
import { componentIscsiSessions, imageIscsiSessions, reportIscsiSessions } from './iscsiSessions.js';
import { bootTemplate, bootTemplates, deleteBootTemplate, putBootTemplate } from './templates.js';
import { bootSession, bootSessions, cancelBootSession, createBootSession, pauseBootSession, resumeBootSession, sessionErrors, sessionNodes } from './sessions.js';
import { applyStaged } from './staged.js';
import { componentBootState, setWorkloadHold } from './bootState.js';
import { bootSessionWork, claimBootSessionNodes, renewBootSessionClaims, reportBootSessionNode } from './claims.js';
import { componentBootTimeline } from './bootTimeline.js';

export const handler = domainHandler(orchestrationManifest, {
  powerRequest: (a: { id: string }, ctx) => powerRequest(ctx, a),
  powerRequests: (a: Parameters<typeof powerRequests>[1], ctx) => powerRequests(ctx, a),
  requestPower: (a: { xnames: string[]; action: string; site?: string | null }, ctx) => requestPower(ctx, a),
  claimPowerRequests: (a: { max?: number | null }, ctx) => claimPowerRequests(ctx, a),
  completePowerRequest: (a: { id: string; results: PowerResult[] }, ctx) => completePowerRequest(ctx, a),
  reportIscsiSessions: (a: Parameters<typeof reportIscsiSessions>[1], ctx) => reportIscsiSessions(ctx, a),
  componentIscsiSessions: (_a, ctx, source) => componentIscsiSessions(ctx, source),
  imageIscsiSessions: (_a, ctx, source) => imageIscsiSessions(ctx, source),
  bootTemplate: (a: Parameters<typeof bootTemplate>[1], ctx) => bootTemplate(ctx, a),
  bootTemplates: (a: Parameters<typeof bootTemplates>[1], ctx) => bootTemplates(ctx, a),
  putBootTemplate: (a: Parameters<typeof putBootTemplate>[1], ctx) => putBootTemplate(ctx, a),
  deleteBootTemplate: (a: Parameters<typeof deleteBootTemplate>[1], ctx) => deleteBootTemplate(ctx, a),
  bootSession: (a: { id: string }, ctx) => bootSession(ctx, a),
  bootSessions: (a: Parameters<typeof bootSessions>[1], ctx) => bootSessions(ctx, a),
  bootSessionNodes: (a: Parameters<typeof sessionNodes>[1], ctx, source) => sessionNodes(ctx, a, source),
  bootSessionErrors: (_a, ctx, source) => sessionErrors(ctx, source),
  createBootSession: (a: Parameters<typeof createBootSession>[1], ctx) => createBootSession(ctx, a),
  pauseBootSession: (a: { id: string }, ctx) => pauseBootSession(ctx, a),
  resumeBootSession: (a: { id: string }, ctx) => resumeBootSession(ctx, a),
  cancelBootSession: (a: { id: string }, ctx) => cancelBootSession(ctx, a),
  applyStaged: (a: Parameters<typeof applyStaged>[1], ctx) => applyStaged(ctx, a),
  setWorkloadHold: (a: Parameters<typeof setWorkloadHold>[1], ctx) => setWorkloadHold(ctx, a),
  componentBootState: (_a, ctx, source) => componentBootState(ctx, source),
  bootSessionWork: (a: Parameters<typeof bootSessionWork>[1], ctx) => bootSessionWork(ctx, a),
  claimBootSessionNodes: (a: Parameters<typeof claimBootSessionNodes>[1], ctx) => claimBootSessionNodes(ctx, a),
  renewBootSessionClaims: (a: Parameters<typeof renewBootSessionClaims>[1], ctx) => renewBootSessionClaims(ctx, a),
  reportBootSessionNode: (a: Parameters<typeof reportBootSessionNode>[1], ctx) => reportBootSessionNode(ctx, a),
  componentBootTimeline: (a: { last?: number | null }, ctx, source) => componentBootTimeline(ctx, a, source),
});
