/**
 * Builds the whole deployment into an app: both stacks, their wiring, and the cdk-nag
 * AwsSolutions checks (synth fails on any unacknowledged finding). Used by cdk/bin/app.ts
 * and by the unit tests, so the tests check exactly what `cdk deploy` deploys.
 */
import { Tags, Validations, type App } from 'aws-cdk-lib';
import nag from 'cdk-nag';
import { readSettings, type SkybootSettings } from './settings.js';
import { StatefulStack } from './stateful-stack.js';
import { StatelessStack } from './stateless-stack.js';

// cdk-nag is CommonJS; Node's ESM loader exposes its exports reliably only through the default import.
const { AwsSolutionsChecks } = nag;

export interface SkybootApp {
  settings: SkybootSettings;
  stateful: StatefulStack;
  stateless: StatelessStack;
}

export interface BuildOptions {
  /** Where the handler files are; the repository root unless a test points elsewhere. */
  entryRoot?: string;
  /** Register the cdk-nag plugin on the app (on by default; tests run the pack directly). */
  nag?: boolean;
  env?: Record<string, string | undefined>;
}

export function buildSkyboot(app: App, options: BuildOptions = {}): SkybootApp {
  const settings = readSettings(app.node, options.env);
  const env = settings.account || settings.region
    ? { ...(settings.account ? { account: settings.account } : {}), ...(settings.region ? { region: settings.region } : {}) }
    : undefined;
  const stateful = new StatefulStack(app, `${settings.prefix}-Stateful`, {
    description: 'Skyboot data: DynamoDB table, image bucket, Cognito user pool (all retained)',
    ...(env ? { env } : {}),
    terminationProtection: true,
    settings,
  });
  const stateless = new StatelessStack(app, `${settings.prefix}-Stateless`, {
    description: 'Skyboot code: Lambdas, HTTP API, alarms (safe to destroy and redeploy)',
    ...(env ? { env } : {}),
    settings,
    stateful,
    ...(options.entryRoot ? { entryRoot: options.entryRoot } : {}),
  });
  Tags.of(app).add('project', 'skyboot');
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { settings, stateful, stateless };
}
