import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AuditLog } from './audit';
import { Caller, RequireScope, insufficientScope } from './auth.guard';
import { BOOTSTRAP_KEY_ID, KeyIdSchema, KeyStore, Principal, SCOPES, isAdmin } from './keys';
import { ApiProblem, bodyFieldErrors, validationProblem } from './problem';
import { QuotasService } from './quotas.service';
import { API_SETTINGS, ApiSettings } from './settings';
import { requireJson } from './submission';
import { TenantQuotasPatchSchema, TenantSchema, TenantStore } from './tenants';

/** The tenant a request is about: the caller's own, or (admins only) the one named by `?tenant=`. */
export function tenantFor(caller: Principal, requested: unknown): string {
  if (requested === undefined || requested === caller.tenant) return caller.tenant;
  if (!isAdmin(caller)) throw insufficientScope('admin');
  return parseTenantParam(requested);
}

function parseTenantParam(raw: unknown): string {
  const parsed = TenantSchema.safeParse(raw);
  if (!parsed.success) throw validationProblem(`"${String(raw)}" is not a tenant name.`, [{ parameter: 'tenant', detail: 'tenants are 1-64 characters of a-z, 0-9, _ and -' }]);
  return parsed.data;
}

/** Validates a JSON body against `schema` (400 naming each bad field). */
function parseBody<T>(req: FastifyRequest, body: unknown, schema: z.ZodType<T>, what: string): T {
  requireJson(req.headers['content-type']);
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw validationProblem(`The ${what} is invalid; fix the fields listed and resend.`, bodyFieldErrors(parsed.error));
  return parsed.data;
}

export const CreateKeyBodySchema = z
  .object({
    tenant: TenantSchema,
    scopes: z.array(z.enum(SCOPES)).min(1).max(SCOPES.length),
    expiresAt: z.iso
      .datetime()
      .refine((at) => Date.parse(at) > Date.now(), 'must be in the future')
      .optional(),
  })
  .strict();

/** API keys (admin): create (the key is in the answer, once), list, revoke. */
@Controller('v1/keys')
@RequireScope('admin')
export class KeysController {
  constructor(
    private readonly keys: KeyStore,
    private readonly audit: AuditLog,
  ) {}

  /** `{ tenant, scopes, expiresAt? }` → 201 `{ id, key, tenant, scopes, … }`; the key is never shown again. */
  @Post()
  @HttpCode(201)
  async create(@Caller() caller: Principal, @Req() req: FastifyRequest, @Body() body: unknown) {
    const request = parseBody(req, body, CreateKeyBodySchema, 'key request');
    const { record, key } = await this.keys.create(request, caller.keyId);
    await this.audit.record({
      action: 'key.create',
      actor: { keyId: caller.keyId, tenant: caller.tenant },
      target: record.id,
      detail: { tenant: record.tenant, scopes: record.scopes, ...(record.expiresAt ? { expiresAt: record.expiresAt } : {}) },
    });
    return { ...record, key };
  }

  /** Every key (`?tenant=` for one tenant's), without the keys themselves. */
  @Get()
  async list(@Query('tenant') tenant: unknown) {
    return { keys: await this.keys.list(tenant === undefined ? undefined : parseTenantParam(tenant)) };
  }

  /** Revokes a key at once, on every replica; 404 for an unknown id. */
  @Delete(':id')
  async revoke(@Caller() caller: Principal, @Param('id') id: string) {
    if (id === BOOTSTRAP_KEY_ID) {
      throw new ApiProblem(409, 'bootstrap-key', 'Bootstrap key', 'The bootstrap admin key comes from ORCH_API_ADMIN_KEY (or its Secret); rotate it there and restart the API.');
    }
    if (!KeyIdSchema.safeParse(id).success) throw validationProblem(`"${id}" is not a key id.`, [{ parameter: 'id', detail: 'key ids are 16 hex digits' }]);
    const revoked = await this.keys.revoke(id);
    if (!revoked) throw new ApiProblem(404, 'key-not-found', 'Key not found', `No key with id "${id}" exists (GET /v1/keys lists them).`);
    await this.audit.record({ action: 'key.revoke', actor: { keyId: caller.keyId, tenant: caller.tenant }, target: id, detail: { tenant: revoked.tenant } });
    return revoked;
  }
}

/** Tenants' quotas (admin): read, and merge changes. */
@Controller('v1/tenants')
@RequireScope('admin')
export class TenantsController {
  constructor(
    private readonly tenants: TenantStore,
    private readonly audit: AuditLog,
    @Inject(API_SETTINGS) private readonly settings: ApiSettings,
  ) {}

  @Get(':tenant')
  async get(@Param('tenant') tenant: string) {
    return this.tenants.view(parseTenantParam(tenant), this.settings.tenancy);
  }

  /** Merges `{ jobsPerMinute?, concurrentJobs?, maxSpendPerJob?, spendPerDay?, excludedProviders? }` over the tenant's settings. */
  @Put(':tenant')
  async put(@Caller() caller: Principal, @Param('tenant') tenant: string, @Req() req: FastifyRequest, @Body() body: unknown) {
    const name = parseTenantParam(tenant);
    const patch = parseBody(req, body, TenantQuotasPatchSchema, 'tenant settings');
    const view = await this.tenants.update(name, patch, caller.keyId, this.settings.tenancy);
    await this.audit.record({ action: 'tenant.update', actor: { keyId: caller.keyId, tenant: caller.tenant }, target: name, detail: { patch } });
    return view;
  }
}

/** A tenant's own usage: jobs and spend per UTC day. */
@Controller('v1/usage')
@RequireScope('read')
export class UsageController {
  constructor(private readonly quotas: QuotasService) {}

  /** The caller's tenant's usage (an admin may ask for another's with `?tenant=`). */
  @Get()
  async get(@Caller() caller: Principal, @Query('tenant') tenant: unknown) {
    return this.quotas.usage(tenantFor(caller, tenant));
  }
}
