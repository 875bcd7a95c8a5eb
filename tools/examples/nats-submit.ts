/**
 * Submits a job over NATS as a tenant (docs/nats-submission.md):
 *
 *   NATS_URL=nats://127.0.0.1:4222 NATS_USER=acme NATS_PASSWORD=… \
 *     node -r @swc-node/register tools/examples/nats-submit.ts '{"goal":"summarise the 10-K"}' [idempotency-key]
 *
 * Prints the accepted job (`{ jobId, status, links }`, as POST /v1/jobs answers) and exits 0,
 * or prints the problem and exits 1. The tenant is the NATS account of the user: the body
 * has no tenant field.
 */
import { type NatsConnection, connect, headers } from '@nats-io/transport-node';
import { PROBLEM_HEADER, SUBMIT_SUBJECT } from '@orchestra/contracts';

/** The answer to a submission: the accepted job, or a problem (RFC 9457 body) with the status the HTTP API would have used. */
export type SubmitAnswer =
  | { readonly ok: true; readonly job: { jobId: string; status: string; links: Record<string, string> } }
  | { readonly ok: false; readonly status: number; readonly problem: { type: string; title: string; detail: string }; readonly retryAfterS?: number };

/** Sends one submission and reads the answer. `body` is POST /v1/jobs's body. */
export async function submitOverNats(nc: NatsConnection, body: unknown, opts: { idempotencyKey?: string; timeoutMs?: number } = {}): Promise<SubmitAnswer> {
  const h = headers();
  // With a key, resending after a timeout cannot start the job twice.
  if (opts.idempotencyKey) h.set('Idempotency-Key', opts.idempotencyKey);
  const reply = await nc.request(SUBMIT_SUBJECT, JSON.stringify(body), { timeout: opts.timeoutMs ?? 10_000, headers: h });
  const problemStatus = reply.headers?.get(PROBLEM_HEADER);
  if (!problemStatus) return { ok: true, job: reply.json() };
  const retryAfter = reply.headers?.get('Retry-After');
  return { ok: false, status: Number(problemStatus), problem: reply.json(), ...(retryAfter ? { retryAfterS: Number(retryAfter) } : {}) };
}

async function main(): Promise<void> {
  const [bodyArg, idempotencyKey] = process.argv.slice(2);
  if (!bodyArg) throw new Error('usage: nats-submit.ts \'{"goal":"…"}\' [idempotency-key]');
  const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', user: process.env.NATS_USER, pass: process.env.NATS_PASSWORD });
  try {
    const answer = await submitOverNats(nc, JSON.parse(bodyArg), { idempotencyKey });
    console.log(JSON.stringify(answer.ok ? answer.job : answer.problem, null, 2));
    if (!answer.ok) process.exitCode = 1;
  } finally {
    await nc.close();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`nats-submit: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
