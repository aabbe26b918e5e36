/**
 * cdk-nag AwsSolutions on both stacks: zero unacknowledged findings, and every
 * acknowledgement carries a reason. The last test synthesizes the app as `cdk synth` does
 * (nag plugin registered, CDK's CloudFormation Validate on, its findings errors per cdk.json).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validations, type Stack } from 'aws-cdk-lib';
import nag from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { REPO_ROOT } from '../../../cdk/lib/handlers.js';
import { buildSkyboot } from '../../../cdk/lib/skyboot.js';
import { stubEntryRoot, synthSkyboot, testApp, type Synthesized } from './synth.js';

const { AwsSolutionsChecks } = nag;

let s: Synthesized;
beforeAll(() => {
  s = synthSkyboot();
});

function findings(stack: Stack): string[] {
  const report = new AwsSolutionsChecks().validateScope(stack);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.resourceLogicalId}: ${v.description}`));
}

function acknowledgements(root: IConstruct): { path: string; id: string; reason: string }[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id, reason }))),
  );
}

test('stateful stack: no AwsSolutions findings', () => {
  expect(findings(s.stateful)).toEqual([]);
});

test('stateless stack: no AwsSolutions findings', () => {
  expect(findings(s.stateless)).toEqual([]);
});

test('every acknowledgement names one rule and gives a specific reason', () => {
  const acks = acknowledgements(s.app);
  expect(acks.length).toBeGreaterThan(0);
  for (const a of acks) {
    expect({ ...a, ok: /AwsSolutions-[A-Z]+\d+/.test(a.id) && a.reason.length >= 40 }).toEqual({ ...a, ok: true });
  }
});

test('the app synthesizes with the nag plugin and CloudFormation Validate on, and the installed CDK CLI reads the result', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'skyboot-cdk-out-'));
  const app = testApp(undefined, { outdir, cfnValidation: true });
  buildSkyboot(app, { entryRoot: stubEntryRoot(), env: {} });
  const assembly = app.synth();
  expect(assembly.stacks.map((st) => st.stackName).sort()).toEqual(['Skyboot-Stateful', 'Skyboot-Stateless']);
  // A CLI older than aws-cdk-lib's cloud-assembly schema refuses to deploy anything; catch that here, not at deploy time.
  const cli = join(REPO_ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk');
  const run = spawnSync(process.execPath, [cli, 'synth', '--app', outdir, '--quiet', '--no-notices', '--no-version-reporting'], { cwd: tmpdir(), encoding: 'utf8' });
  expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr }).toEqual({ status: 0, stderr: '' });
}, 180_000);
