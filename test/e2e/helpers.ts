import { Bus } from '@orchestra/bus';
import { JobEvent, JobEventPayload, JobState, TERMINAL_JOB_EVENTS } from '@orchestra/contracts';
import type { DevnetApi, DevnetStack } from '@orchestra/testing';

/** The API as a client holds it: its URL and an API key. */
export type ApiAccess = Pick<DevnetApi, 'url' | 'key'>;

/** Headers of a request with the client's key (and any others). */
export function authed(api: ApiAccess, headers: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${api.key}`, ...headers };
}

/** A bus connection to the stack's NATS as the operator (authentication is on), for reading and writing what services do. */
export function operatorBus(stack: DevnetStack, name: string): Promise<Bus> {
  return Bus.connect({ servers: stack.natsUrl, name, access: stack.natsAccess });
}

/** POSTs a job and returns its id (asserting 202). */
export async function submit(api: ApiAccess, body: unknown): Promise<string> {
  const res = await fetch(`${api.url}/v1/jobs`, { method: 'POST', headers: authed(api, { 'content-type': 'application/json' }), body: JSON.stringify(body) });
  if (res.status !== 202) throw new Error(`POST /v1/jobs: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { jobId: string }).jobId;
}

/** Follows a job's SSE stream until its terminal event and returns every event, in order. */
export async function followEvents(api: ApiAccess, jobId: string): Promise<Array<JobEventPayload & { seq: number }>> {
  const res = await fetch(`${api.url}/v1/jobs/${jobId}/events`, { headers: authed(api, { accept: 'text/event-stream' }) });
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events: Array<JobEventPayload & { seq: number }> = [];
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split('\n').find((l) => l.startsWith('data: '));
      const id = block.split('\n').find((l) => l.startsWith('id: '));
      if (!data) continue;
      const payload = JobEvent.envelope.parse(JSON.parse(data.slice(6))).payload;
      events.push({ ...payload, seq: Number(id?.slice(4)) });
    }
  }
  expect(TERMINAL_JOB_EVENTS).toContain(events.at(-1)?.event);
  return events;
}

export async function getJob(api: ApiAccess, jobId: string): Promise<JobState> {
  const res = await fetch(`${api.url}/v1/jobs/${jobId}`, { headers: authed(api) });
  expect(res.status).toBe(200);
  return (await res.json()) as JobState;
}
