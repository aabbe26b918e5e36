/**
 * The batch the agent queues for the cloud must be a valid `DiscoveryReportInput` under the real
 * GraphQL contract (schema/*.graphql with its scalars), not just a similar-looking object.
 */
import { makeExecutableSchema } from '@graphql-tools/schema';
import { parse, type OperationDefinitionNode } from 'graphql';
import { getVariableValues } from 'graphql/execution/values.js';
import { loadTypeDefs, scalarResolvers } from '../../../schema/index.js';
import { toDiscoveryReportInput } from '../../../onprem-agent/redfish/cloud-input.js';
import { discover } from '../../../onprem-agent/redfish/discover.js';
import { reportIdempotencyKey } from '../../../onprem-agent/redfish/report-store.js';
import { startSimulatedFleet } from '../../../onprem-agent/redfish/simulator/fleet.js';
import { fleetCredentials, targetsOf } from '../../integration/redfish/support.js';

describe('the discovery batch for reportDiscovery', () => {
  test('is accepted by the GraphQL contract, with every node, MAC and hardware item', async () => {
    const fleet = await startSimulatedFleet({ count: 4, vendors: ['dmtf', 'ami', 'cray', 'intel'] });
    try {
      const report = await discover({ targets: targetsOf(fleet), credentials: fleetCredentials(fleet) });
      const key = reportIdempotencyKey(report);
      expect(key).toMatch(/^[\w.:-]{1,128}$/);
      const input = toDiscoveryReportInput(report, key);
      const schema = makeExecutableSchema({ typeDefs: loadTypeDefs(), resolvers: scalarResolvers as never });
      const op = parse('mutation($input: DiscoveryReportInput!) { reportDiscovery(input: $input) { idempotencyKey } }').definitions[0] as OperationDefinitionNode;
      const coerced = getVariableValues(schema, op.variableDefinitions ?? [], { input });
      expect(coerced.errors ?? []).toEqual([]);
      // The check has teeth: the contract's MAC scalar refuses a non-MAC.
      const broken = structuredClone(input);
      broken.components[0]!.interfaces = [{ mac: 'not-a-mac' }];
      expect(getVariableValues(schema, op.variableDefinitions ?? [], { input: broken }).errors?.length).toBeGreaterThan(0);
      expect(input.endpoints).toHaveLength(4);
      expect(input.components).toHaveLength(4 + report.hardware.length);
      const macs = input.components.flatMap((c) => (c.interfaces ?? []).map((i) => i.mac));
      expect(macs.sort()).toEqual(report.interfaces.map((i) => i.mac).sort());
      const cray = input.components.find((c) => c.hardware?.model === 'HPE CRAY EX425')!;
      expect(cray.arch).toBe('X86');
      expect(cray.hardware!.processors).toHaveLength(2);
      expect(cray.hardware!.accelerators).toHaveLength(4);
      expect(cray.hardware!.firmware.map((f) => f.name)).toEqual(['BIOS', 'BMC BMC']);
      // Same content, same key: a re-sent batch is applied once.
      expect(reportIdempotencyKey({ ...report, startedAt: 'later', stats: { ...report.stats, durationMs: 1 } })).toBe(key);
    } finally {
      await fleet.close();
    }
  });

  test('a known BMC that did not answer is reported FAILED with the reason', async () => {
    const fleet = await startSimulatedFleet({ count: 1, vendors: ['dmtf'], hang: [0] });
    try {
      const report = await discover({ targets: targetsOf(fleet), timeoutMs: 300 });
      const b = fleet.bmcs[0]!;
      const input = toDiscoveryReportInput(report, 'k', { [`${b.host}:${b.port}`]: 'x3000c0s1b0' });
      expect(input.endpoints).toEqual([{ xname: 'x3000c0s1b0', address: `${b.host}:${b.port}`, discoveryStatus: 'FAILED', error: expect.stringMatching(/^service-root: .*no answer/) }]);
    } finally {
      await fleet.close();
    }
  });
});
