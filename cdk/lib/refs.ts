/**
 * What the stateless stack needs from the stateful one, passed as named CloudFormation exports
 * instead of construct references. Fixed export names mean the stateless stack can be deleted,
 * changed or redeployed without CloudFormation's "export in use" lock-ups that CDK's generated
 * exports cause when a reference disappears, and IAM findings name them predictably.
 */
import { Fn, type Stack } from 'aws-cdk-lib';

export const REF_KEYS = [
  'TableName',
  'TableArn',
  'BucketName',
  'BucketArn',
  'UserPoolId',
  'UserPoolArn',
  'HumanClientId',
  'TokenEndpoint',
  'AudienceParameterArn',
] as const;
export type RefKey = (typeof REF_KEYS)[number];
export type StatefulRefs = Record<RefKey, string> & { audienceParameterName: string };

export function exportName(prefix: string, key: RefKey): string {
  return `${prefix}-${key}`;
}

/** In the stateful stack: export each value under its fixed name. */
export function exportRefs(stack: Stack, prefix: string, values: Record<RefKey, string>): void {
  for (const key of REF_KEYS) stack.exportValue(values[key], { name: exportName(prefix, key) });
}

/** In the stateless stack: the imports, as tokens CloudFormation resolves at deploy time. */
export function importRefs(prefix: string, audienceParameterName: string): StatefulRefs {
  const refs = Object.fromEntries(REF_KEYS.map((key) => [key, Fn.importValue(exportName(prefix, key))])) as Record<RefKey, string>;
  return { ...refs, audienceParameterName };
}
