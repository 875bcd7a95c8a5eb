import { ORCHESTRA_ACCOUNT } from './permissions';
import { Subjects } from './topology';

/**
 * Tenants as NATS accounts: NATS-native job submission (docs/nats-submission.md).
 *
 * Orchestra's account exports one service, `orch.v1.jobs.submit.<tenant>`; each tenant's
 * account imports its own subject of it under the local name `orch.v1.jobs.submit` (the
 * import's `to`). A tenant's user therefore publishes to `orch.v1.jobs.submit` and the API
 * receives the request on `orch.v1.jobs.submit.<tenant>`: the tenant is named by the
 * server's configuration, never by anything in the message, so no payload or header can
 * claim another tenant. The API answers with the body POST /v1/jobs would have returned,
 * or a problem marked by {@link PROBLEM_HEADER}.
 */

/** The subject a tenant's user sends a submission to, in the tenant's own account. */
export const SUBMIT_SUBJECT = Subjects.submitRequest;

/** The header that marks a reply as a problem (its value is the HTTP status the same request would have had); the body is problem+json. */
export const PROBLEM_HEADER = 'Orchestra-Problem';

/** Tenant ids (the same rule as the API's tenants): also valid as one NATS subject token. */
const TENANT_TOKEN = /^[a-z0-9_-]{1,64}$/;

/** The subject in Orchestra's account that `tenant`'s submissions arrive on. */
export function submitSubjectOf(tenant: string): string {
  if (!TENANT_TOKEN.test(tenant)) throw new RangeError(`"${tenant}" is not a tenant id (1-64 characters of a-z, 0-9, _ and -)`);
  return `${SUBMIT_SUBJECT}.${tenant}`;
}

/** The tenant a submission arrived for, from the subject the server mapped it to; undefined for any other subject. */
export function tenantOfSubmitSubject(subject: string): string | undefined {
  if (!subject.startsWith(`${SUBMIT_SUBJECT}.`)) return undefined;
  const tenant = subject.slice(SUBMIT_SUBJECT.length + 1);
  return TENANT_TOKEN.test(tenant) ? tenant : undefined;
}

/** The NATS account of a tenant. */
export function tenantAccountName(tenant: string): string {
  return `TENANT_${tenant}`;
}

/** What Orchestra's account exports to tenant accounts (nats-server `exports`). */
export function orchestraExports(): { service: string }[] {
  return [{ service: Subjects.allSubmitRequests }];
}

/** A user of a tenant's account; `submit: false` makes one that may connect but not submit (an observer). */
export interface TenantNatsUser {
  readonly user: string;
  readonly password: string;
  readonly submit: boolean;
}

/**
 * A tenant's account (nats-server `accounts.<name>`): its users, and the import of its own
 * submit subject. Users subscribe only on their inbox (replies); those that may submit
 * publish only to {@link SUBMIT_SUBJECT}.
 */
export function tenantAccountConfig(tenant: string, users: readonly TenantNatsUser[]) {
  return {
    users: users.map((u) => ({
      user: u.user,
      password: u.password,
      permissions: { publish: u.submit ? { allow: [SUBMIT_SUBJECT] } : { deny: ['>'] }, subscribe: { allow: ['_INBOX.>'] } },
    })),
    imports: [{ service: { account: ORCHESTRA_ACCOUNT, subject: submitSubjectOf(tenant) }, to: SUBMIT_SUBJECT }],
  };
}
