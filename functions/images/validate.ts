/** Input rules for images: names, versions, labels, declared artifacts. */
import { createHash } from 'node:crypto';
import { BadUserInputError } from '../../schema/errors.js';
import { ARTIFACT_TYPES, type Arch, type DeclaredArtifact, type Label } from './model.js';
import { planParts } from './partPlan.js';

// '#' separates key parts in the table, so names keep to a plain set.
const NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;
const LABEL_VALUE = /^[A-Za-z0-9._:/+-]{0,63}$/;
const SHA = /^[0-9a-f]{64}$/;
export const MAX_LABELS = 20;

export function checkName(value: string, field: string): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new BadUserInputError(field, `"${String(value).slice(0, 140)}" must be 1–128 characters of letters, digits, '.', '_', '+' and '-', starting with a letter or digit`);
  }
  return value;
}

export function checkSha256(value: string, field: string): string {
  const v = typeof value === 'string' ? value.toLowerCase() : '';
  if (!SHA.test(v)) throw new BadUserInputError(field, `"${String(value).slice(0, 80)}" is not a sha256 (64 hex digits)`);
  return v;
}

export function checkArch(value: string, field = 'arch'): Arch {
  if (value !== 'X86' && value !== 'ARM' && value !== 'OTHER') throw new BadUserInputError(field, `"${value}" is not X86, ARM or OTHER`);
  return value;
}

export function checkLabels(labels: Label[] | null | undefined, field = 'labels'): Label[] {
  const list = labels ?? [];
  if (list.length > MAX_LABELS) throw new BadUserInputError(field, `at most ${MAX_LABELS} labels`);
  const seen = new Set<string>();
  for (const [i, l] of list.entries()) {
    if (!LABEL_KEY.test(l.key)) throw new BadUserInputError(`${field}[${i}].key`, `"${l.key}" must be 1–63 letters, digits, '.', '_', '/', '-'`);
    if (!LABEL_VALUE.test(l.value)) throw new BadUserInputError(`${field}[${i}].value`, `"${l.value}" must be up to 63 letters, digits, '.', '_', ':', '/', '+', '-'`);
    if (seen.has(l.key)) throw new BadUserInputError(`${field}[${i}].key`, `"${l.key}" is given twice`);
    seen.add(l.key);
  }
  return [...list].sort((a, b) => a.key.localeCompare(b.key));
}

export function checkArtifacts(artifacts: DeclaredArtifact[], field = 'artifacts'): DeclaredArtifact[] {
  if (!Array.isArray(artifacts) || artifacts.length === 0) throw new BadUserInputError(field, 'at least a KERNEL is required');
  const byType = new Map<string, DeclaredArtifact>();
  const shas = new Set<string>();
  for (const [i, a] of artifacts.entries()) {
    if (!ARTIFACT_TYPES.includes(a.type)) throw new BadUserInputError(`${field}[${i}].type`, `"${a.type}" is not one of ${ARTIFACT_TYPES.join(', ')}`);
    if (byType.has(a.type)) throw new BadUserInputError(`${field}[${i}].type`, `${a.type} is declared twice`);
    const sha256 = checkSha256(a.sha256, `${field}[${i}].sha256`);
    if (shas.has(sha256)) throw new BadUserInputError(`${field}[${i}].sha256`, `${sha256} is declared for two artifact types`);
    planParts(a.size, `${field}[${i}].size`);
    shas.add(sha256);
    byType.set(a.type, { type: a.type, size: a.size, sha256 });
  }
  if (!byType.has('KERNEL')) throw new BadUserInputError(field, 'a KERNEL artifact is required');
  return ARTIFACT_TYPES.filter((t) => byType.has(t)).map((t) => byType.get(t)!);
}

/** Identity of a push: re-running the same push (same name, version, arch, artifacts) resumes it. */
export function fingerprint(name: string, version: string, arch: Arch, artifacts: DeclaredArtifact[]): string {
  return createHash('sha256')
    .update(JSON.stringify([name, version, arch, artifacts.map((a) => [a.type, a.size, a.sha256])]))
    .digest('hex');
}
