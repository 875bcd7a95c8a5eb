import { Injectable } from '@nestjs/common';
import { Bus } from '@orchestra/bus';
import { Subjects } from '@orchestra/contracts';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/** What admins (and tenants deleting their data) did: one entry per action on the append-only ORCH_AUDIT stream. */
export const AuditEntrySchema = z.object({
  id: z.string(),
  ts: z.iso.datetime(),
  /** Subject token: `key.create`, `key.revoke`, `tenant.update`, `job.delete`. */
  action: z.enum(['key.create', 'key.revoke', 'tenant.update', 'job.delete']),
  /** The key that acted, and its tenant. */
  actor: z.object({ keyId: z.string(), tenant: z.string() }),
  /** What was acted on: a key id, a tenant, a job id. */
  target: z.string(),
  /** What changed (never a key or its hash). */
  detail: z.record(z.string(), z.unknown()).default({}),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

/**
 * Appends audit entries. The stream denies deletes and purges, so an entry, once
 * acknowledged, stays for the stream's retention. An action is recorded after it took
 * effect; if recording fails the request fails (500) and the client retries, so an action
 * is never silently unaudited (it may be recorded twice).
 */
@Injectable()
export class AuditLog {
  constructor(private readonly bus: Bus) {}

  async record(entry: Omit<AuditEntry, 'id' | 'ts'>): Promise<void> {
    const full: AuditEntry = { id: randomUUID(), ts: new Date().toISOString(), ...entry, detail: entry.detail ?? {} };
    const data = JSON.stringify(full);
    this.bus.checkSize(`audit entry ${full.action}`, Buffer.byteLength(data));
    await this.bus.js.publish(Subjects.audit(full.action), data, { msgID: full.id });
  }
}
