/**
 * Shared by the CDK unit tests: synthesize both stacks once per test file with bundling
 * skipped (esbuild is exercised by bundling.test.ts). The handler entries are stand-in files in
 * a temporary folder, so these tests check the wiring whether or not the real handlers exist yet.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ALL_HANDLERS, REPO_ROOT } from '../../../cdk/lib/handlers.js';
import { buildSkyboot, type SkybootApp } from '../../../cdk/lib/skyboot.js';

/** cdk.json's context (feature flags and defaults), so tests synthesize what `cdk synth` does. */
export function cdkJsonContext(): Record<string, unknown> {
  const json = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return json.context ?? {};
}

export const TEST_CONTEXT = {
  'skyboot:prefix': 'Skyboot',
  'skyboot:sites': ['alpha', 'beta'],
  'skyboot:adminEmail': 'ops@example.org',
  'skyboot:corsOrigins': ['https://console.example.org'],
  'skyboot:throttleRate': 25,
  'skyboot:throttleBurst': 60,
  'skyboot:region': 'eu-west-1',
  'skyboot:account': '123456789012',
};

export function stubEntryRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'skyboot-cdk-entries-'));
  for (const spec of ALL_HANDLERS) {
    const file = join(root, spec.entry);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, 'export const handler = async () => null;\n');
  }
  // NodejsFunction wants the lock file under the project root, even when it will not bundle.
  writeFileSync(join(root, 'package-lock.json'), '{}\n');
  return root;
}

export interface Synthesized extends SkybootApp {
  app: App;
  statefulTemplate: Template;
  statelessTemplate: Template;
}

export interface TestAppOptions {
  outdir?: string;
  /** CDK's built-in CloudFormation Validate pass (~10 s per synthesis here); nag.test.ts runs it once. */
  cfnValidation?: boolean;
}

/** A new app with cdk.json's context, `context` on top, and bundling skipped. */
export function testApp(context: Record<string, unknown> = TEST_CONTEXT, options: TestAppOptions = {}): App {
  return new App({
    ...(options.outdir ? { outdir: options.outdir } : {}),
    builtinCloudFormationValidation: options.cfnValidation ?? false,
    // An empty bundling-stacks list tells NodejsFunction to skip esbuild and use a placeholder asset.
    context: { ...cdkJsonContext(), ...context, 'aws:cdk:bundling-stacks': [] },
  });
}

/** Both stacks' templates, synthesized without the validation plugins (nag.test.ts runs those). */
export function synthSkyboot(context: Record<string, unknown> = TEST_CONTEXT): Synthesized {
  const app = testApp(context);
  const built = buildSkyboot(app, { entryRoot: stubEntryRoot(), nag: false, env: {} });
  const assembly = app.synth({ validateOnSynthesis: false });
  const template = (id: string) => Template.fromJSON(assembly.getStackArtifact(id).template as Record<string, unknown>);
  return {
    ...built,
    app,
    statefulTemplate: template(built.stateful.artifactId),
    statelessTemplate: template(built.stateless.artifactId),
  };
}
