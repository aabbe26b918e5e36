/** Where agent modules hand observations for the cloud; the durable outbox implements it. */
export interface ObservationSink {
  enqueue(kind: string, payload: unknown, idempotencyKey: string): Promise<void>;
}
