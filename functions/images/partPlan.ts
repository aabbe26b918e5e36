/**
 * Part sizing for multipart uploads. S3 allows at most 10,000 parts; parts of 8–64 MiB keep
 * retries cheap and parallel PUTs busy. Aim for ≤ 1,000 parts so one createImage answer stays
 * small (1 GiB → 128 parts of 8 MiB; 100 GiB → 1,600 of 64 MiB), growing to 10,000 before refusing.
 */
import { BadUserInputError } from '../../schema/errors.js';

const MiB = 1024 * 1024;
export const MIN_PART_SIZE = 8 * MiB;
export const MAX_PART_SIZE = 64 * MiB;
export const MAX_PARTS = 10_000;
const TARGET_PARTS = 1_000;

export interface PartPlan {
  partSize: number;
  partCount: number;
}

export function planParts(size: number, field = 'size'): PartPlan {
  if (!Number.isSafeInteger(size) || size < 1) throw new BadUserInputError(field, 'must be a positive whole number of bytes');
  if (size > MAX_PART_SIZE * MAX_PARTS) throw new BadUserInputError(field, `${size} bytes is more than ${MAX_PARTS} parts of 64 MiB (625 GiB)`);
  const wanted = Math.ceil(size / TARGET_PARTS / MiB) * MiB;
  const partSize = Math.min(MAX_PART_SIZE, Math.max(MIN_PART_SIZE, wanted));
  return { partSize, partCount: Math.max(1, Math.ceil(size / partSize)) };
}
