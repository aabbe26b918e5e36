import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { freshAws, type TestAws } from '../../support/aws.js';
import { idempotencyKey, idempotent, IdempotencyInProgressError, IdempotencyKeyReusedError, payloadHash } from '../../../functions/shared/idempotency.js';

/** The shared idempotency mechanism against DynamoDB Local: one run per key, payloads compared, concurrency. */
describe('idempotent() (DynamoDB Local)', () => {
  let aws: TestAws;
  beforeAll(async () => {
    aws = await freshAws('idem');
  });
  afterAll(() => aws.dispose());

  /** Work that really writes: a counter item incremented once per run. */
  function counter(name: string) {
    let runs = 0;
    const work = async () => {
      runs += 1;
      await aws.clients.doc.send(new PutCommand({ TableName: aws.tableName, Item: { PK: `COUNTER#${name}`, SK: String(runs), n: runs } }));
      return { run: runs, at: new Date().toISOString() };
    };
    return { work, runs: () => runs };
  }

  it('same key and payload: the work runs once, the second call gets the stored result', async () => {
    const c = counter('same');
    const opts = { scope: 'test', key: 'k1', payload: { b: [1, 2], a: 'x' }, expiresAfterSeconds: 3600 };
    const first = await idempotent(aws.clients, opts, c.work);
    // Key order does not change the payload.
    const second = await idempotent(aws.clients, { ...opts, payload: { a: 'x', b: [1, 2] } }, c.work);
    expect(first.replayed).toBe(false);
    expect(second).toEqual({ result: first.result, replayed: true });
    expect(c.runs()).toBe(1);
    const record = (await aws.clients.doc.send(new GetCommand({ TableName: aws.tableName, Key: idempotencyKey('test', 'k1') }))).Item;
    expect(record).toMatchObject({ status: 'COMPLETED', payloadHash: payloadHash({ a: 'x', b: [1, 2] }), result: first.result });
    expect(record?.inProgressExpiry).toBeUndefined();
  });

  it('same key, different payload: CONFLICT, and the work does not run', async () => {
    const c = counter('diff');
    await idempotent(aws.clients, { scope: 'test', key: 'k2', payload: { v: 1 }, expiresAfterSeconds: 3600 }, c.work);
    const err = await idempotent(aws.clients, { scope: 'test', key: 'k2', payload: { v: 2 }, expiresAfterSeconds: 3600, field: 'input.idempotencyKey' }, c.work).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdempotencyKeyReusedError);
    expect(err).toMatchObject({ code: 'CONFLICT', field: 'input.idempotencyKey', message: 'input.idempotencyKey: k2 was already used for a different payload (test); use a new key for new content' });
    expect(c.runs()).toBe(1);
    // The same key in another scope is another record.
    await idempotent(aws.clients, { scope: 'other', key: 'k2', payload: { v: 2 }, expiresAfterSeconds: 3600 }, c.work);
    expect(c.runs()).toBe(2);
  });

  it('concurrent calls with one key: one runs, the others wait and get its result', async () => {
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const work = async () => {
      runs += 1;
      await gate;
      return { winner: runs };
    };
    const opts = { scope: 'test', key: 'k3', payload: { same: true }, expiresAfterSeconds: 3600 };
    const calls = Array.from({ length: 5 }, () => idempotent(aws.clients, opts, work));
    await new Promise((r) => setTimeout(r, 300));
    expect(runs).toBe(1);
    release();
    const outcomes = await Promise.all(calls);
    expect(runs).toBe(1);
    expect(outcomes.filter((o) => !o.replayed)).toHaveLength(1);
    expect(new Set(outcomes.map((o) => JSON.stringify(o.result)))).toEqual(new Set([JSON.stringify({ winner: 1 })]));
  });

  it('a caller that waits longer than waitMs gets IN-PROGRESS; once done, the result', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const opts = { scope: 'test', key: 'k4', payload: 1, expiresAfterSeconds: 3600 };
    const running = idempotent(aws.clients, opts, async () => {
      await gate;
      return 'done';
    });
    await new Promise((r) => setTimeout(r, 100));
    const impatient = await idempotent(aws.clients, { ...opts, waitMs: 200 }, async () => 'second run').catch((e: unknown) => e);
    expect(impatient).toBeInstanceOf(IdempotencyInProgressError);
    expect(impatient).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('is being applied by another call') });
    release();
    expect(await running).toEqual({ result: 'done', replayed: false });
    expect(await idempotent(aws.clients, opts, async () => 'second run')).toEqual({ result: 'done', replayed: true });
  });

  it('work that throws frees the key, so a retry runs it again', async () => {
    const opts = { scope: 'test', key: 'k5', payload: 'p', expiresAfterSeconds: 3600 };
    await expect(idempotent(aws.clients, opts, async () => { throw new Error('BMC unreachable'); })).rejects.toThrow('BMC unreachable');
    expect((await aws.clients.doc.send(new GetCommand({ TableName: aws.tableName, Key: idempotencyKey('test', 'k5'), ConsistentRead: true }))).Item).toBeUndefined();
    expect(await idempotent(aws.clients, opts, async () => 'second try')).toEqual({ result: 'second try', replayed: false });
  });

  it('an INPROGRESS lock past its expiry (the first caller died) is taken over', async () => {
    const opts = { scope: 'test', key: 'k6', payload: 'p', expiresAfterSeconds: 3600, inProgressSeconds: 1 };
    // The first caller takes the lock and never finishes (a Lambda that timed out).
    void idempotent(aws.clients, opts, () => new Promise<never>(() => undefined));
    await new Promise((r) => setTimeout(r, 200));
    const early = await idempotent(aws.clients, { ...opts, waitMs: 100 }, async () => 'taken over').catch((e: unknown) => e);
    expect(early).toBeInstanceOf(IdempotencyInProgressError);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await idempotent(aws.clients, opts, async () => 'taken over')).toEqual({ result: 'taken over', replayed: false });
  });
});
