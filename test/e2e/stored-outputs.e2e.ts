import { Bus } from '@orchestra/bus';
import { Buckets, JobStateSchema, ObjectBuckets, isObjectRef } from '@orchestra/contracts';
import { ReportSchema, outputSchema } from '@orchestra/schemas';
import { DevnetStack, startDevnetStack } from '@orchestra/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { followEvents, getJob, submit, operatorBus } from './helpers';

/**
 * Outputs kept by reference, end to end: with a tiny ORCH_INLINE_OUTPUT_BYTES every step
 * output goes to the object store, so the dependants' `$ref` inputs, the dispatcher's
 * hires, the verifier's semantic checks and the API's result all have to go through
 * references — and the job must come out exactly as it does inline.
 */
describe('stored outputs (separate processes)', () => {
  let stack: DevnetStack;
  let bus: Bus;

  beforeAll(async () => {
    stack = await startDevnetStack({
      ports: 'auto',
      logDir: mkdtempSync(join(tmpdir(), 'orchestra-e2e-')),
      serviceEnv: { ORCH_MINER_TIMEOUT_MS: '3000', ORCH_INLINE_OUTPUT_BYTES: '512' },
    });
    bus = await operatorBus(stack, 'stored-outputs-e2e');
  }, 120_000);

  afterAll(async () => {
    await bus?.close();
    await stack?.stop();
  }, 60_000);

  it('runs the example goal with every output stored by reference, and GET shows the result whole', async () => {
    const jobId = await submit(stack.api, { goal: 'Analyze these financial filings and write a Python script to graph the trends', inputs: { entities: ['AAPL', 'MSFT'] } });
    const events = await followEvents(stack.api, jobId);
    expect(events.at(-1)?.event).toBe('job.succeeded');

    // The record holds references; the stored values sit in the outputs bucket.
    const record = JobStateSchema.parse((await (await bus.kv(Buckets.jobs)).get(jobId))?.json());
    const data = record.steps.find((s) => s.id === 'data');
    expect(data?.input).toMatchObject({ entities: { $ref: '/inputs/entities' } });
    for (const step of record.steps) expect(isObjectRef(step.output)).toBe(true);
    expect((record.result as { outputs: Record<string, unknown> }).outputs.data).toMatchObject({ $object: { bucket: ObjectBuckets.outputs } });

    // The client gets values, each conforming to its schema, and the rows answer the inputs.
    const job = await getJob(stack.api, jobId);
    const report = ReportSchema.parse(job.result);
    for (const p of report.provenance) expect(() => outputSchema(p.schemaId).parse(report.outputs[p.stepId])).not.toThrow();
    const rows = (report.outputs.data as { rows: Array<{ entity: string }> }).rows;
    expect(new Set(rows.map((r) => r.entity))).toEqual(new Set(['AAPL', 'MSFT']));
  }, 120_000);
});
