import type { ApiKey, Job, JobEvent, JobPage, Subnets, Tenant, Usage } from '@orchestra/sdk';

/** Human renderings of the API's answers: one line per thing, the details a person acts on. */

const MAX_RESULT_CHARS = 4_000;

export function eventLine(event: JobEvent): string {
  return `${event.id.padStart(6)}  ${event.type.padEnd(22)} ${event.stepId ? `${event.stepId}: ` : ''}${event.message}`;
}

export function jobText(job: Job): string {
  const lines = [`${job.jobId}  ${job.status}  ${JSON.stringify(job.goal)}`];
  if (!('steps' in job)) return [...lines, `  submitted ${job.submittedAt}; not planned yet`].join('\n');
  lines.push(`  submitted ${job.submittedAt}, updated ${job.updatedAt}; spent ${job.spend.totalTao} TAO${job.spend.totalUsd === undefined ? '' : ` (${job.spend.totalUsd} USD)`}`);
  if (job.planSource) lines.push(`  plan by ${job.planSource}${job.estimate ? `, estimated ${job.estimate.tao} TAO` : ''}`);
  for (const rejected of job.rejectedPlans ?? []) lines.push(`  rejected plan (${rejected.by}): ${rejected.reasons.join('; ')}`);
  for (const step of job.steps) {
    lines.push(`  step ${step.id} [${step.capability}] ${step.status}`);
    for (const a of step.attempts) {
      const who = [a.provider, a.source].filter(Boolean).join(' ');
      const cost = [a.costTao === undefined ? '' : `${a.costTao} TAO`, a.costUsd === undefined ? '' : `${a.costUsd} USD`].filter(Boolean).join(', ');
      lines.push(
        `    #${a.attempt} ${who || 'unassigned'}${a.netuid === undefined ? '' : ` SN${a.netuid}`}: ${a.status}${a.reason ? ` — ${a.reason}` : ''}${cost ? ` (${cost})` : ''}`,
      );
    }
  }
  if (job.error) lines.push(`  error ${job.error.code}: ${job.error.message}`);
  if (job.result !== undefined) {
    const text = JSON.stringify(job.result, null, 2);
    lines.push('  result:', text.length > MAX_RESULT_CHARS ? `${text.slice(0, MAX_RESULT_CHARS)}\n  … (${text.length} characters; --json prints it whole)` : text);
  }
  return lines.join('\n');
}

export function jobsText(page: JobPage): string {
  if (page.jobs.length === 0) return `no jobs (tenant ${page.tenant})`;
  const rows = page.jobs.map((j) => `${j.jobId}  ${j.status.padEnd(17)} ${j.submittedAt}  ${j.spend ? `${j.spend.totalTao} TAO  ` : ''}${JSON.stringify(j.goal).slice(0, 60)}`);
  return [...rows, ...(page.nextCursor ? [`more: --cursor ${page.nextCursor}`] : [])].join('\n');
}

export function keyText(key: ApiKey & { key?: string }): string {
  const state = key.revokedAt ? `revoked ${key.revokedAt}` : key.expiresAt ? `expires ${key.expiresAt}` : 'active';
  return `${key.id}  ${key.tenant.padEnd(16)} ${key.scopes.join(',').padEnd(24)} ${state}${key.key ? `\nkey (shown once): ${key.key}` : ''}`;
}

export function tenantText(tenant: Tenant): string {
  const q = tenant.quotas;
  const set = (name: string) => (name in tenant.overrides ? ' (set)' : '');
  return [
    `tenant ${tenant.tenant}${tenant.updatedAt ? `, updated ${tenant.updatedAt} by ${tenant.updatedBy}` : ''}`,
    `  jobsPerMinute      ${q.jobsPerMinute}${set('jobsPerMinute')}`,
    `  concurrentJobs     ${q.concurrentJobs}${set('concurrentJobs')}`,
    `  maxSpendPerJob     ${q.maxSpendPerJob.tao ?? '-'} TAO${set('maxSpendPerJob')}`,
    `  spendPerDay        ${q.spendPerDay.tao ?? '-'} TAO${set('spendPerDay')}`,
    `  excludedProviders  ${q.excludedProviders.join(', ') || 'none'}${set('excludedProviders')}`,
  ].join('\n');
}

export function usageText(usage: Usage): string {
  return [
    `tenant ${usage.tenant}: ${usage.running} running`,
    ...usage.days.map((d) => `  ${d.day}  ${String(d.jobs).padStart(5)} jobs  spent ${d.spent.tao} TAO  reserved ${d.reserved.tao} TAO`),
  ].join('\n');
}

export function subnetsText(view: Subnets): string {
  const lines: string[] = [];
  for (const { capability, providers } of view.capabilities) {
    lines.push(capability);
    providers.forEach((p, i) => {
      const access = p.access ? (p.access.eligible ? ', axon access ok' : `, no axon access: ${p.access.reason}`) : '';
      lines.push(`  ${i + 1}. ${p.provider} (SN${p.netuid}${p.block === undefined ? '' : `, block ${p.block}`}${access})`);
      if (p.sources.length === 0) lines.push('       no sources known yet');
      for (const s of p.sources) {
        const share = s.incentiveShare === undefined ? '' : ` incentive ${(s.incentiveShare * 100).toFixed(0)}%`;
        const seen = s.observed
          ? ` accepted ${s.observed.accepted.toFixed(1)}/${s.observed.judged.toFixed(1)} answers, ${s.observed.answered.toFixed(1)}/${s.observed.calls.toFixed(1)} calls${s.observed.latencyMs === null ? '' : `, ${Math.round(s.observed.latencyMs)} ms`}`
          : ' never hired';
        lines.push(`       ${s.source}${share}${seen}`);
      }
    });
  }
  return lines.join('\n');
}
