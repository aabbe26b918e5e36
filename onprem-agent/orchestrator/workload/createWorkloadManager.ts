/** One workload manager per agent, from its `workload` configuration. */
import { createExecWorkload } from './execWorkload.js';
import { createNoneWorkload } from './noneWorkload.js';
import { createSlurmWorkload } from './slurmWorkload.js';
import type { WorkloadConfig } from './workloadConfig.js';
import type { WorkloadManager, WorkloadManagerDeps } from './workloadManager.js';

export function createWorkloadManager(config: WorkloadConfig, deps: WorkloadManagerDeps): WorkloadManager {
  switch (config.kind) {
    case 'none':
      return createNoneWorkload();
    case 'exec':
      return createExecWorkload(config, deps);
    case 'slurm':
      return createSlurmWorkload(config, deps);
  }
}
