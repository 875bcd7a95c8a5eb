import { AddressPolicy } from '@orchestra/bittensor';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WEBHOOK_SIGNATURE_HEADER, WebhookSchema, deliverWebhook, verifyWebhookSignature, webhookSignature } from './webhooks';

/** A real receiver on loopback: answers each request with the next of `statuses` (then 200), and keeps what it got. */
async function receiver(statuses: number[]) {
  const received: { headers: IncomingMessage['headers']; body: string }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.statusCode = statuses.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/orchestra`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const SECRET = 'whsec-0123456789abcdef';
const loopbackAllowed = { policy: new AddressPolicy({ allow: ['loopback'] }), backoffMs: [10, 20], timeoutMs: 5_000 };

describe('webhooks', () => {
  it('signs the body: the receiver verifies it with the shared secret; a changed body, secret or stale time does not verify', async () => {
    const hook = await receiver([]);
    try {
      const body = JSON.stringify({ jobId: 'job_1', status: 'succeeded' });
      const outcome = await deliverWebhook({ url: hook.url, secret: SECRET }, body, loopbackAllowed);
      expect(outcome).toEqual({ delivered: true, attempts: 1, status: 200 });
      const [got] = hook.received;
      expect(got.body).toBe(body);
      const header = got.headers[WEBHOOK_SIGNATURE_HEADER.toLowerCase()] as string;
      const now = Math.floor(Date.now() / 1000);
      expect(verifyWebhookSignature(SECRET, header, got.body, now)).toBe(true);
      expect(verifyWebhookSignature(SECRET, header, `${got.body} `, now)).toBe(false);
      expect(verifyWebhookSignature('another-secret-0123456789', header, got.body, now)).toBe(false);
      expect(verifyWebhookSignature(SECRET, header, got.body, now + 3_600)).toBe(false);
      expect(verifyWebhookSignature(SECRET, 'garbage', got.body, now)).toBe(false);
      expect(verifyWebhookSignature(SECRET, webhookSignature(SECRET, body, 1_700_000_000), body, 1_700_000_100)).toBe(true);
    } finally {
      await hook.close();
    }
  });

  it('retries after a 500 with backoff, and stops at the first success', async () => {
    const hook = await receiver([500, 503]);
    const waits: number[] = [];
    try {
      const outcome = await deliverWebhook({ url: hook.url }, '{}', {
        ...loopbackAllowed,
        sleep: async (ms) => {
          waits.push(ms);
        },
      });
      expect(outcome).toEqual({ delivered: true, attempts: 3, status: 200 });
      expect(waits).toEqual([10, 20]);
      expect(hook.received).toHaveLength(3);
      expect(hook.received[0].headers[WEBHOOK_SIGNATURE_HEADER.toLowerCase()]).toBeUndefined();
    } finally {
      await hook.close();
    }
  });

  it('gives up after the last attempt saying why, and does not retry a 4xx refusal', async () => {
    const failing = await receiver([500, 500, 500]);
    const refusing = await receiver([410]);
    try {
      await expect(deliverWebhook({ url: failing.url }, '{}', loopbackAllowed)).resolves.toEqual({ delivered: false, attempts: 3, reason: expect.stringMatching(/answered 500/) });
      await expect(deliverWebhook({ url: refusing.url }, '{}', loopbackAllowed)).resolves.toEqual({
        delivered: false,
        attempts: 1,
        reason: expect.stringMatching(/answered 410.*not retried/),
      });
    } finally {
      await failing.close();
      await refusing.close();
    }
  });

  it('refuses private and loopback addresses (literal or resolved) without connecting, unless the policy allows them', async () => {
    const hook = await receiver([]);
    const strict = { policy: new AddressPolicy(), backoffMs: [10], timeoutMs: 5_000 };
    try {
      await expect(deliverWebhook({ url: hook.url }, '{}', strict)).resolves.toEqual({ delivered: false, attempts: 1, reason: expect.stringMatching(/loopback/) });
      // A name that resolves to a private address is refused as the address would be (the resolver is the only fake: no traffic leaves loopback).
      const privateName = { ...strict, resolve: async () => ['10.1.2.3'] };
      await expect(deliverWebhook({ url: 'https://hooks.example.com/x' }, '{}', privateName)).resolves.toEqual({
        delivered: false,
        attempts: 1,
        reason: expect.stringMatching(/private/),
      });
      await expect(deliverWebhook({ url: 'http://169.254.169.254/latest' }, '{}', strict)).resolves.toEqual({
        delivered: false,
        attempts: 1,
        reason: expect.stringMatching(/link-local/),
      });
      expect(hook.received).toHaveLength(0);
    } finally {
      await hook.close();
    }
  });

  it('accepts only http(s) URLs and bounded secrets', () => {
    expect(WebhookSchema.safeParse({ url: 'https://example.com/hook', secret: SECRET }).success).toBe(true);
    expect(WebhookSchema.safeParse({ url: 'file:///etc/passwd' }).success).toBe(false);
    expect(WebhookSchema.safeParse({ url: 'https://example.com/hook', secret: 'short' }).success).toBe(false);
    expect(WebhookSchema.safeParse({ url: `https://example.com/${'a'.repeat(3_000)}` }).success).toBe(false);
  });
});
