// Jest's Node environment, pointed at this worker's own DynamoDB Local (test/support/awsEndpoints.ts
// starts one per worker). The constructor runs in the worker's real process, before the test's
// sandboxed copy of process.env is made, so both the tests and the child processes they spawn
// see the same endpoint.
import NodeEnvironmentModule from 'jest-environment-node';

const NodeEnvironment = NodeEnvironmentModule.TestEnvironment ?? NodeEnvironmentModule.default ?? NodeEnvironmentModule;

export default class WorkerEnvironment extends NodeEnvironment {
  constructor(config, context) {
    const endpoints = process.env.SKYBOOT_TEST_DYNAMODB_ENDPOINTS?.split(',').filter(Boolean) ?? [];
    const worker = Number(process.env.JEST_WORKER_ID ?? '1');
    if (endpoints.length > 0 && Number.isInteger(worker) && worker >= 1) {
      process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoints[(worker - 1) % endpoints.length];
    }
    super(config, context);
  }
}
