/**
 * The contract between this CDK app and the code it deploys: which file each Lambda runs,
 * what it may touch, and how its AWS SDK is resolved. Written once here so the stacks, the
 * bundling test and the cold-start bench all point at the same files.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DOMAIN_TIMEOUT_SECONDS } from '../../gateway/timeLimits.js';

/** The repository root: two levels above cdk/lib. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const DOMAINS = ['inventory', 'boot', 'images', 'sites', 'orchestration'] as const;
export type Domain = (typeof DOMAINS)[number];

/**
 * `bundled`: the AWS SDK is bundled (tree-shaken, one file). `runtime`: @aws-sdk/* stays
 * external and comes from the SDK the nodejs22.x runtime ships: a smaller bundle (the gateway's
 * 851 KiB would be 497 KiB), but the runtime's SDK is loaded file by file at init, and its
 * version is whatever the runtime carries that week, not the one the tests ran. bench/coldstart
 * measured the gateway's module init 1.3 to 1.6 times longer with the SDK left to the runtime,
 * so every function bundles it (which also pins the SDK version we test with); `runtime` stays
 * available per function.
 */
export type SdkSource = 'runtime' | 'bundled';

export interface HandlerSpec {
  /** Path from the repo root to the file exporting `handler`. */
  entry: string;
  sdk: SdkSource;
  memoryMiB: number;
  timeoutSeconds: number;
  /** Copy schema/*.graphql next to the bundle (the gateway builds its schema from them). */
  needsSchema: boolean;
  /**
   * Runs the gateway's Apollo Server, which installs Apollo's optional plugins disabled
   * (gateway/server.ts), so bundling leaves their code out (cdk/lib/bundling.ts
   * UNUSED_APOLLO_PLUGINS). Only for a handler whose server does install them disabled.
   */
  apolloPluginsDisabled?: boolean;
}

export const GATEWAY: HandlerSpec = {
  entry: 'gateway/lambda.ts',
  sdk: 'bundled',
  // More memory is more CPU: schema assembly and validation dominate the gateway's cold start.
  memoryMiB: 1024,
  // API Gateway HTTP APIs give up after 30 s; the gateway must answer first.
  timeoutSeconds: 29,
  needsSchema: true,
  apolloPluginsDisabled: true,
};

export const DOMAIN_HANDLERS: Record<Domain, HandlerSpec> = {
  inventory: { entry: 'functions/inventory/handler.ts', sdk: 'bundled', memoryMiB: 512, timeoutSeconds: DOMAIN_TIMEOUT_SECONDS, needsSchema: false },
  boot: { entry: 'functions/boot/handler.ts', sdk: 'bundled', memoryMiB: 512, timeoutSeconds: DOMAIN_TIMEOUT_SECONDS, needsSchema: false },
  images: { entry: 'functions/images/handler.ts', sdk: 'bundled', memoryMiB: 512, timeoutSeconds: DOMAIN_TIMEOUT_SECONDS, needsSchema: false },
  sites: { entry: 'functions/sites/handler.ts', sdk: 'bundled', memoryMiB: 512, timeoutSeconds: DOMAIN_TIMEOUT_SECONDS, needsSchema: false },
  orchestration: { entry: 'functions/orchestration/handler.ts', sdk: 'bundled', memoryMiB: 512, timeoutSeconds: DOMAIN_TIMEOUT_SECONDS, needsSchema: false },
};

/** Verifies an uploaded artifact's sha256 by streaming it: multi-GB root images need time and a full vCPU. */
export const FINALIZER: HandlerSpec = {
  entry: 'functions/images/finalizer.ts',
  sdk: 'bundled',
  memoryMiB: 1769,
  timeoutSeconds: 900,
  needsSchema: false,
};

/** Builds site snapshot revisions off the request path (functions/sites/snapshotBuilder.ts), invoked asynchronously by the sites function. */
export const SNAPSHOT_BUILDER: HandlerSpec = {
  entry: 'functions/sites/snapshotBuilder.ts',
  sdk: 'bundled',
  // More memory is more CPU: hashing and compressing 100,000 nodes' content.
  memoryMiB: 1769,
  timeoutSeconds: 900,
  needsSchema: false,
};

/** Hands boot-session claims of agents that went away back to their site (functions/orchestration/claimExpiry.ts), every minute. */
export const CLAIM_EXPIRY: HandlerSpec = {
  entry: 'functions/orchestration/claimExpiry.ts',
  sdk: 'bundled',
  memoryMiB: 512,
  timeoutSeconds: 55,
  needsSchema: false,
};

/** Objects under this prefix are uploaded artifacts; their creation triggers the finalizer. */
export const ARTIFACT_PREFIX = 'artifacts/';

/**
 * Partition-key prefixes the images domain (and its finalizer) own (functions/images/keys.ts,
 * plus the audit records every mutation writes). IAM's dynamodb:LeadingKeys condition limits
 * their writes to these, so they cannot write inventory or boot items.
 */
/** SNAPINPUT: an artifact status change notes itself for the sites' snapshot builds (functions/sites/snapshotChanges.ts). */
export const IMAGE_KEY_PREFIXES = ['IMAGE#', 'IMAGENAME#', 'ARTIFACT#', 'AUDIT#', 'SNAPINPUT'] as const;
/** Where the sites function stores built snapshots (functions/sites/snapshotObjects.ts SNAPSHOT_PREFIX). */
export const SNAPSHOT_PREFIX = 'snapshots/';

/** The environment variable through which the gateway learns a domain's function name. */
export function functionEnvName(domain: Domain): string {
  return `SKYBOOT_FUNCTION_${domain.toUpperCase()}`;
}

/** Where bundling copies schema/*.graphql, relative to the bundle; the gateway reads SKYBOOT_SCHEMA_DIR. */
export const SCHEMA_BUNDLE_DIR = 'schema';
/** The Lambda runtime unpacks the bundle at /var/task. */
export const SCHEMA_DIR_IN_LAMBDA = `/var/task/${SCHEMA_BUNDLE_DIR}`;

export function entryPath(spec: HandlerSpec, root = REPO_ROOT): string {
  return join(root, spec.entry);
}

export const ALL_HANDLERS: readonly HandlerSpec[] = [GATEWAY, ...DOMAINS.map((d) => DOMAIN_HANDLERS[d]), FINALIZER, CLAIM_EXPIRY, SNAPSHOT_BUILDER];
