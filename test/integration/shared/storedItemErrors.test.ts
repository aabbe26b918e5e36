import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { componentKey, hardwareKey } from '../../../functions/inventory/keys.js';
import { logger } from '../../../functions/shared/logger.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';

/**
 * A stored item corrupted behind the API's back (written directly with the SDK, as a hand edit
 * or a faulty migration would) is reported through GraphQL as INTERNAL_SERVER_ERROR naming its
 * key, field, value and reason, and logged with those fields; every other item still reads.
 */
describe('malformed stored items through the GraphQL gateway', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
    const up = await gw.gql(
      `mutation($input: [ComponentInput!]!) { upsertComponents(input: $input) { created } }`,
      { input: [{ xname: 'x1000c0s0b0n0', nid: 1 }, { xname: 'x1000c0s0b0n1', nid: 2 }, { xname: 'x1000c0s0b0n2', nid: 3 }] },
      gw.tokens.operator,
    );
    expect(up.errors).toBeUndefined();
    for (const x of ['x1000c0s0b0n0', 'x1000c0s0b0n1']) {
      const hw = await gw.gql(`mutation { setHardwareInventory(xname: "${x}", inventory: { serialNumber: "SN-${x}", memory: [{ capacityMiB: 4096 }] }) { version } }`, undefined, gw.tokens.operator);
      expect(hw.errors).toBeUndefined();
    }
  });
  afterAll(() => gw.close());

  const component = (x: string) => gw.gql<{ component: { xname: string; state: string } | null }>(`{ component(xname: "${x}") { xname state } }`, undefined, gw.tokens.viewer);

  it('a component whose state is outside the enum: a clear error for it, the others read', async () => {
    const { doc } = gw.aws.clients;
    await doc.send(
      new UpdateCommand({ TableName: gw.aws.tableName, Key: componentKey('local', 'x1000c0s0b0n2'), UpdateExpression: 'SET #s = :s', ExpressionAttributeNames: { '#s': 'state' }, ExpressionAttributeValues: { ':s': 'BOOTING' } }),
    );
    // The domain Lambda runs in this process (the gateway's local invoker): record what it hands its Powertools logger.
    const logged: Record<string, unknown>[] = [];
    const error = logger.error.bind(logger);
    logger.error = ((message: string, ...extra: Record<string, unknown>[]) => {
      logged.push(Object.assign({ message }, ...extra));
      error(message, ...extra);
    }) as typeof logger.error;
    let bad;
    try {
      bad = await component('x1000c0s0b0n2');
    } finally {
      logger.error = error;
    }
    expect(bad.status).toBe(200);
    expect(bad.data?.component).toBeNull();
    expect(bad.errors).toHaveLength(1);
    expect(bad.errors![0]!.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(bad.errors![0]!.message).toBe(
      'stored Component item PK=COMP#local#x1000c0s0b0n2 SK=COMP is malformed: state = "BOOTING": is not one of UNKNOWN, EMPTY, POPULATED, OFF, ON, STANDBY, HALT, READY',
    );
    expect(logged.map((l) => l.message)).toEqual(['operation failed']);
    expect(logged[0]!.storedItem).toEqual({ kind: 'Component', PK: 'COMP#local#x1000c0s0b0n2', SK: 'COMP', path: 'state', value: '"BOOTING"', reason: 'is not one of UNKNOWN, EMPTY, POPULATED, OFF, ON, STANDBY, HALT, READY' });

    const good = await component('x1000c0s0b0n1');
    expect(good.errors).toBeUndefined();
    expect(good.data?.component).toEqual({ xname: 'x1000c0s0b0n1', state: 'UNKNOWN' });

    // Repaired with the SDK, the item reads again: the error named everything needed to find it.
    await doc.send(
      new UpdateCommand({ TableName: gw.aws.tableName, Key: componentKey('local', 'x1000c0s0b0n2'), UpdateExpression: 'SET #s = :s', ExpressionAttributeNames: { '#s': 'state' }, ExpressionAttributeValues: { ':s': 'UNKNOWN' } }),
    );
    expect((await component('x1000c0s0b0n2')).data?.component).toEqual({ xname: 'x1000c0s0b0n2', state: 'UNKNOWN' });
  });

  it('a hardware record with a part that is not a map: that node\'s hardware errors, the rest of the list and the other node read', async () => {
    const { doc } = gw.aws.clients;
    await doc.send(
      new PutCommand({
        TableName: gw.aws.tableName,
        Item: { ...hardwareKey('local', 'x1000c0s0b0n0'), entity: 'Hardware', site: 'local', xname: 'x1000c0s0b0n0', serialNumber: 'SN', memory: ['4096'], version: 2, updatedAt: '2026-01-01T00:00:00.000Z' },
      }),
    );
    const r = await gw.gql<{ components: { edges: { node: { xname: string; hardware: { serialNumber: string } | null } }[] } }>(
      `{ components(filter: { type: "Node" }) { edges { node { xname hardware { serialNumber } } } } }`,
      undefined,
      gw.tokens.viewer,
    );
    expect(r.data!.components.edges.map((e) => e.node)).toEqual([
      { xname: 'x1000c0s0b0n0', hardware: null },
      { xname: 'x1000c0s0b0n1', hardware: { serialNumber: 'SN-x1000c0s0b0n1' } },
      { xname: 'x1000c0s0b0n2', hardware: null },
    ]);
    expect(r.errors?.map((e) => [e.path, e.extensions?.code, e.message])).toEqual([
      [['components', 'edges', 0, 'node', 'hardware'], 'INTERNAL_SERVER_ERROR', 'stored Hardware item PK=COMP#local#x1000c0s0b0n0 SK=HW is malformed: memory[0] = "4096": is not a map'],
    ]);

    const both = await gw.gql<{ n0: { hardware: unknown } | null; n1: { hardware: { serialNumber: string } | null } | null }>(
      `{ n0: component(xname: "x1000c0s0b0n0") { hardware { serialNumber } } n1: component(xname: "x1000c0s0b0n1") { hardware { serialNumber } } }`,
      undefined,
      gw.tokens.viewer,
    );
    expect(both.data?.n1).toEqual({ hardware: { serialNumber: 'SN-x1000c0s0b0n1' } });
    expect(both.data?.n0).toEqual({ hardware: null });
    expect(both.errors).toHaveLength(1);
    expect(both.errors![0]!.path).toEqual(['n0', 'hardware']);
    expect(both.errors![0]!.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(both.errors![0]!.message).toBe('stored Hardware item PK=COMP#local#x1000c0s0b0n0 SK=HW is malformed: memory[0] = "4096": is not a map');
  });
});
