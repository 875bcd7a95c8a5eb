import { Inject, Injectable } from '@nestjs/common';
import { Bus, compareAndSet, readJson } from '@orchestra/bus';
import { Buckets } from '@orchestra/contracts';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ApiProblem } from './problem';
import { API_SETTINGS, type ApiSettings } from './settings';
import { TenantSchema } from './tenants';

/**
 * API keys: `Authorization: Bearer orch_<id>_<secret>`. The id (16 hex digits) is public
 * and names the key's record; the secret is 256 random bits, shown once when the key is
 * made and stored only as the SHA-256 of the whole key.
 *
 * Why a plain SHA-256 and not bcrypt/scrypt/argon2: slow hashes exist to make guessing a
 * low-entropy password from its hash expensive. A 256-bit random secret cannot be guessed
 * at any speed, so a fast hash loses nothing, and it keeps every request's check cheap (a
 * deliberately slow hash per request would be a lever for denial of service).
 */

/** What a key may do. `submit` also covers dry runs and approvals; `admin` is the operators' scope, deployment-wide, and implies every other. */
export const SCOPES = ['submit', 'read', 'cancel', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

const KEY_PATTERN = /^orch_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
export const KeyIdSchema = z.string().regex(/^[0-9a-f]{16}$/, 'key ids are 16 hex digits');

/** The id the key from the environment (ORCH_API_ADMIN_KEY) is known by; it is not in the bucket and cannot be revoked through the API. */
export const BOOTSTRAP_KEY_ID = 'bootstrap';
/** The tenant the bootstrap admin key acts as when it submits jobs itself. */
export const OPERATORS_TENANT = 'operators';

/** A key as stored: never the key itself. */
export const ApiKeyRecordSchema = z
  .object({
    id: KeyIdSchema,
    tenant: TenantSchema,
    scopes: z.array(z.enum(SCOPES)).min(1),
    /** sha256 of the whole key, hex. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    createdAt: z.iso.datetime(),
    /** The key id of the admin who made it. */
    createdBy: z.string(),
    expiresAt: z.iso.datetime().optional(),
    revokedAt: z.iso.datetime().optional(),
  })
  .strict();
export type ApiKeyRecord = z.infer<typeof ApiKeyRecordSchema>;

/** A key as listed: the record without its hash. */
export type ApiKeyView = Omit<ApiKeyRecord, 'sha256'>;

/** Who is calling: the key's id, its tenant and scopes. */
export interface Principal {
  readonly keyId: string;
  readonly tenant: string;
  readonly scopes: readonly Scope[];
}

/** True when the principal may use `scope` (admin may use every scope). */
export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.includes('admin') || principal.scopes.includes(scope);
}

/** True for the operators' scope. */
export function isAdmin(principal: Principal): boolean {
  return principal.scopes.includes('admin');
}

/** A new random key with its id. */
export function newApiKey(): { id: string; key: string } {
  const id = randomBytes(8).toString('hex');
  return { id, key: `orch_${id}_${randomBytes(32).toString('base64url')}` };
}

export function sha256Of(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** The 401s: each names its condition in the problem type, and says what to do. */
export const AuthProblems = {
  missing: () =>
    new ApiProblem(401, 'missing-credentials', 'Missing credentials', 'This endpoint needs an API key; send it as `Authorization: Bearer <key>`.', undefined, {
      'www-authenticate': 'Bearer',
    }),
  malformed: () =>
    new ApiProblem(
      401,
      'malformed-credentials',
      'Malformed credentials',
      'The Authorization header is not `Bearer <key>` with an Orchestra API key (`orch_<16 hex>_<43 base64url>`); send the key exactly as it was issued.',
      undefined,
      { 'www-authenticate': 'Bearer error="invalid_request"' },
    ),
  invalid: () =>
    new ApiProblem(401, 'invalid-api-key', 'Invalid API key', 'This API key is not known; check that you copied it whole, or ask an admin for a new one.', undefined, {
      'www-authenticate': 'Bearer error="invalid_token"',
    }),
  revoked: () =>
    new ApiProblem(401, 'api-key-revoked', 'API key revoked', 'This API key was revoked; ask an admin for a new one.', undefined, {
      'www-authenticate': 'Bearer error="invalid_token"',
    }),
  expired: (at: string) =>
    new ApiProblem(401, 'api-key-expired', 'API key expired', `This API key expired at ${at}; ask an admin for a new one.`, undefined, {
      'www-authenticate': 'Bearer error="invalid_token"',
    }),
};

/** The bearer credential of an Authorization header value; throws the 401 for a missing or malformed one. */
export function bearerCredential(header: string | string[] | undefined): string {
  if (header === undefined || header === '') throw AuthProblems.missing();
  if (Array.isArray(header)) throw AuthProblems.malformed();
  const match = /^Bearer ([\x21-\x7e]{1,512})$/i.exec(header.trim());
  if (!match) throw AuthProblems.malformed();
  return match[1];
}

/**
 * Stores, finds and checks API keys (bucket `orch_api_keys`). Every request is checked
 * against the bucket, so a revocation takes effect at the next request on every replica.
 */
@Injectable()
export class KeyStore {
  /** Digest of the admin key from the environment (ORCH_API_ADMIN_KEY / _FILE), compared in constant time. */
  private readonly bootstrap: Buffer | undefined;

  constructor(
    private readonly bus: Bus,
    @Inject(API_SETTINGS) settings: ApiSettings,
  ) {
    this.bootstrap = settings.adminKey === undefined ? undefined : sha256Of(settings.adminKey);
  }

  /** The caller a bearer credential names; throws the 401 for an unknown, wrong, revoked or expired key. */
  async authenticate(credential: string, now = new Date()): Promise<Principal> {
    const digest = sha256Of(credential);
    if (this.bootstrap && timingSafeEqual(digest, this.bootstrap)) {
      return { keyId: BOOTSTRAP_KEY_ID, tenant: OPERATORS_TENANT, scopes: ['admin'] };
    }
    const match = KEY_PATTERN.exec(credential);
    if (!match) throw AuthProblems.malformed();
    const record = await readJson(await this.bus.kv(Buckets.apiKeys), match[1], ApiKeyRecordSchema);
    if (!record || !timingSafeEqual(digest, Buffer.from(record.sha256, 'hex'))) throw AuthProblems.invalid();
    if (record.revokedAt !== undefined) throw AuthProblems.revoked();
    if (record.expiresAt !== undefined && Date.parse(record.expiresAt) <= now.getTime()) throw AuthProblems.expired(record.expiresAt);
    return { keyId: record.id, tenant: record.tenant, scopes: record.scopes };
  }

  /** Makes a key; the returned key is the only copy there will ever be. */
  async create(request: { tenant: string; scopes: readonly Scope[]; expiresAt?: string }, createdBy: string): Promise<{ record: ApiKeyView; key: string }> {
    const { id, key } = newApiKey();
    const record: ApiKeyRecord = {
      id,
      tenant: request.tenant,
      scopes: [...new Set(request.scopes)],
      sha256: sha256Of(key).toString('hex'),
      createdAt: new Date().toISOString(),
      createdBy,
      ...(request.expiresAt === undefined ? {} : { expiresAt: request.expiresAt }),
    };
    // 64 random bits of id: a collision is not expected, and kv.create would refuse one rather than overwrite.
    await (await this.bus.kv(Buckets.apiKeys)).create(id, JSON.stringify(record));
    return { record: keyView(record), key };
  }

  /** Every key (optionally one tenant's), without hashes, oldest first. */
  async list(tenant?: string): Promise<ApiKeyView[]> {
    const kv = await this.bus.kv(Buckets.apiKeys);
    const ids: string[] = [];
    for await (const id of await kv.keys()) ids.push(id);
    const records = await Promise.all(ids.map((id) => readJson(kv, id, ApiKeyRecordSchema)));
    return records
      .filter((r): r is ApiKeyRecord => r !== undefined && (tenant === undefined || r.tenant === tenant))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
      .map(keyView);
  }

  /** Revokes a key (kept, marked, so listings and the audit trail still show it); undefined when there is no such key. */
  async revoke(id: string): Promise<ApiKeyView | undefined> {
    const kv = await this.bus.kv(Buckets.apiKeys);
    const now = new Date().toISOString();
    const { value } = await compareAndSet(kv, id, ApiKeyRecordSchema, (current) => (current && current.revokedAt === undefined ? { ...current, revokedAt: now } : undefined));
    return value && keyView(value);
  }
}

function keyView({ sha256: _hash, ...view }: ApiKeyRecord): ApiKeyView {
  return view;
}
