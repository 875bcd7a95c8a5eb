import { AddressPolicy, AddressRefusedError } from '@orchestra/bittensor';
import { OrchestraError } from '@orchestra/contracts';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * Webhooks: an HTTP POST of a finished job to the client's URL, signed with HMAC-SHA256 so
 * the client can tell it came from us (docs/webhooks.md). A webhook URL is a stranger's
 * address, so it goes through the same outbound AddressPolicy as miners: it must not make
 * Orchestra call its own cluster, a cloud metadata endpoint or a private network. DNS names
 * are resolved here, every address checked, and the connection pinned to a checked address
 * (so a second resolution cannot rebind it); https keeps the name for SNI and certificates.
 */

/** The signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const WEBHOOK_SIGNATURE_HEADER = 'Orchestra-Signature';

/** How old a signed timestamp a receiver should accept, seconds (replays older than this are refused). */
export const WEBHOOK_TOLERANCE_S = 300;

/** `webhook` of a job or tenant: where to POST, and the shared secret to sign with (no secret: unsigned). */
export const WebhookSchema = z
  .object({
    url: z
      .string()
      .max(2048)
      .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'an http:// or https:// URL'),
    secret: z.string().min(16).max(256).optional(),
  })
  .strict();
export type Webhook = z.infer<typeof WebhookSchema>;

/** The signature header's value for `body` sent at `timestampS`. */
export function webhookSignature(secret: string, body: string, timestampS: number): string {
  return `t=${timestampS},v1=${hmacHex(secret, `${timestampS}.${body}`)}`;
}

/** What a receiver does: true when `header` signs `body` with `secret` within the tolerance of `nowS`. */
export function verifyWebhookSignature(secret: string, header: string | undefined, body: string, nowS: number, toleranceS = WEBHOOK_TOLERANCE_S): boolean {
  const parts = Object.fromEntries((header ?? '').split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isSafeInteger(t) || Math.abs(nowS - t) > toleranceS || typeof parts.v1 !== 'string') return false;
  const expected = Buffer.from(hmacHex(secret, `${t}.${body}`), 'hex');
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function hmacHex(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text, 'utf8').digest('hex');
}

/** A delivery that cannot succeed by retrying: a refused address, a 4xx other than 408/429. */
export class WebhookRefusedError extends OrchestraError {
  override readonly name = 'WebhookRefusedError';
  readonly retryable = false;
}

/** A delivery attempt that may succeed later: a 5xx, 408, 429, a timeout or a network fault. */
export class WebhookAttemptError extends OrchestraError {
  override readonly name = 'WebhookAttemptError';
  readonly retryable = true;
}

/** How deliveries are made. */
export interface WebhookDeliveryOptions {
  readonly policy: AddressPolicy;
  /** Waits before the 2nd, 3rd… attempt, ms; attempts = length + 1. */
  readonly backoffMs: readonly number[];
  /** Per attempt: connect, send and read the response head. */
  readonly timeoutMs: number;
  /** Host name → addresses (default: the system resolver, every address). */
  readonly resolve?: (host: string) => Promise<string[]>;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

/** The outcome of a delivery: how many attempts, and why it gave up if it did. */
export type WebhookOutcome =
  { readonly delivered: true; readonly attempts: number; readonly status: number } | { readonly delivered: false; readonly attempts: number; readonly reason: string };

const systemResolve = async (host: string) => (await dnsLookup(host, { all: true })).map((a) => a.address);

/**
 * POSTs `body` (JSON text) to the webhook, signed when it has a secret, retrying what may
 * succeed later with the given backoff. Never throws for the receiver's faults: the
 * outcome says what happened (the job is finished either way).
 */
export async function deliverWebhook(webhook: Webhook, body: string, opts: WebhookDeliveryOptions): Promise<WebhookOutcome> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let attempts = 0;
  let last = '';
  for (let i = 0; i <= opts.backoffMs.length; i++) {
    if (i > 0) await sleep(opts.backoffMs[i - 1]);
    attempts++;
    try {
      const status = await postOnce(webhook, body, opts);
      return { delivered: true, attempts, status };
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
      if (!(error instanceof WebhookAttemptError)) break;
    }
  }
  return { delivered: false, attempts, reason: last };
}

async function postOnce(webhook: Webhook, body: string, opts: WebhookDeliveryOptions): Promise<number> {
  const url = new URL(webhook.url);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const address = await checkedAddress(host, opts);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'orchestra-webhooks' };
  if (webhook.secret) headers[WEBHOOK_SIGNATURE_HEADER] = webhookSignature(webhook.secret, body, Math.floor((opts.now?.() ?? Date.now()) / 1000));
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<number>((resolve, reject) => {
    const req = client.request(
      url,
      {
        method: 'POST',
        headers,
        timeout: opts.timeoutMs,
        // Connect to the address that was checked, whatever a second resolution would say.
        lookup: (_host, options, callback) =>
          // Node asks for every address (`all`) when it may race families, for one otherwise.
          options.all ? callback(null, [{ address: address.ip, family: address.family }]) : (callback as (e: null, a: string, f: number) => void)(null, address.ip, address.family),
      },
      (res) => {
        // The receiver's body is not read: its status is the answer.
        res.resume();
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve(status);
        else if (status >= 500 || status === 408 || status === 429) reject(new WebhookAttemptError(`webhook ${url.origin} answered ${status}`));
        else reject(new WebhookRefusedError(`webhook ${url.origin} answered ${status}; it refuses the delivery, so it is not retried`));
      },
    );
    req.on('timeout', () => req.destroy(new WebhookAttemptError(`webhook ${url.origin} did not answer within ${opts.timeoutMs} ms`)));
    req.on('error', (error) => reject(error instanceof OrchestraError ? error : new WebhookAttemptError(`webhook ${url.origin}: ${error.message}`)));
    req.end(body);
  });
}

/** The address to connect to: every address of the host must pass the policy (one bad one refuses the host). */
async function checkedAddress(host: string, opts: WebhookDeliveryOptions): Promise<{ ip: string; family: 4 | 6 }> {
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = await (opts.resolve ?? systemResolve)(host);
    } catch (error) {
      throw new WebhookAttemptError(`webhook host ${host} did not resolve: ${(error as Error).message}`);
    }
  }
  if (addresses.length === 0) throw new WebhookAttemptError(`webhook host ${host} has no addresses`);
  try {
    const verdicts = addresses.map((a) => opts.policy.check(a));
    return { ip: verdicts[0].address, family: verdicts[0].family };
  } catch (error) {
    if (error instanceof AddressRefusedError)
      throw new WebhookRefusedError(`webhook host ${host}: ${error.message}; only public addresses are called unless the deployment allows more`, { cause: error });
    throw error;
  }
}
