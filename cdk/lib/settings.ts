/**
 * Deployment settings: CDK context (cdk.json, or `-c key=value`) first, then environment
 * variables, then defaults. One reader so the app, the tests and the docs agree on the names.
 */
import type { Node } from 'constructs';

export interface SkybootSettings {
  /** Prefix of the two stack names: `<prefix>-Stateful`, `<prefix>-Stateless`. */
  prefix: string;
  account: string | undefined;
  region: string | undefined;
  /** Site names; the first is the default site for inputs that name none. */
  sites: string[];
  /** Receives alarm notifications (SNS e-mail subscription); none when empty. */
  adminEmail: string | undefined;
  /** Cognito hosted-domain prefix for the token endpoint; must be unique in the region. */
  authDomainPrefix: string | undefined;
  /** Browser origins allowed by the API's CORS configuration. */
  corsOrigins: string[];
  /** OAuth callback URLs of the human app client (the CLI's loopback listener by default). */
  callbackUrls: string[];
  /** Stage-wide throttling: steady requests per second and burst. */
  throttleRate: number;
  throttleBurst: number;
  /** Optional custom domain for the API, with an ACM certificate in the same region. */
  domainName: string | undefined;
  certificateArn: string | undefined;
}

type Env = Record<string, string | undefined>;

function list(value: unknown): string[] | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (Array.isArray(value)) return value.map(String);
  const text = String(value).trim();
  // `-c skyboot:sites='["a","b"]'` arrives as JSON text; `-c skyboot:sites=a,b` as a plain list.
  if (text.startsWith('[')) return (JSON.parse(text) as unknown[]).map(String);
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}

function text(value: unknown): string | undefined {
  return value === undefined || value === null || value === '' ? undefined : String(value);
}

function positive(value: unknown, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`context ${name} must be a positive number, got ${String(value)}`);
  return n;
}

export function readSettings(node: Node, env: Env = process.env): SkybootSettings {
  const ctx = (key: string): unknown => node.tryGetContext(`skyboot:${key}`);
  const sites = list(ctx('sites')) ?? list(env.SKYBOOT_SITES) ?? ['default'];
  if (sites.length === 0) throw new Error('context skyboot:sites must name at least one site');
  const certificateArn = text(ctx('certificateArn')) ?? text(env.SKYBOOT_CERTIFICATE_ARN);
  const domainName = text(ctx('domainName')) ?? text(env.SKYBOOT_DOMAIN_NAME);
  if ((domainName === undefined) !== (certificateArn === undefined)) {
    throw new Error('context skyboot:domainName and skyboot:certificateArn go together: set both or neither');
  }
  return {
    prefix: text(ctx('prefix')) ?? 'Skyboot',
    account: text(ctx('account')) ?? env.CDK_DEFAULT_ACCOUNT,
    region: text(ctx('region')) ?? env.CDK_DEFAULT_REGION ?? env.AWS_REGION,
    sites,
    adminEmail: text(ctx('adminEmail')) ?? text(env.SKYBOOT_ADMIN_EMAIL),
    authDomainPrefix: text(ctx('authDomainPrefix')),
    corsOrigins: list(ctx('corsOrigins')) ?? [],
    callbackUrls: list(ctx('callbackUrls')) ?? ['http://localhost:8765/callback'],
    throttleRate: positive(ctx('throttleRate'), 'skyboot:throttleRate', 50),
    throttleBurst: positive(ctx('throttleBurst'), 'skyboot:throttleBurst', 100),
    domainName,
    certificateArn,
  };
}
