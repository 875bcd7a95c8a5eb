import { JobEvent, JobState, TERMINAL_JOB_EVENTS } from '@orchestra/contracts';
import { citationOf, CitedAnalysis, PythonCode, ReportSchema } from '@orchestra/schemas';
import { readSse } from './sse';

/** The seed's example goal. */
export const EXAMPLE_GOAL = 'Analyze these financial filings and write a Python script to graph the trends';

/**
 * Submits a goal with the client's inputs, prints every progress event as it arrives, then
 * prints the verified report. Resolves with the final job record.
 */
export async function runGoal(api: { url: string; key: string }, goal: string, print: (line: string) => void, inputs: Record<string, unknown> = {}): Promise<JobState> {
  const apiUrl = api.url;
  // Every request carries the tenant's key: the API knows the tenant from it.
  const authorization = `Bearer ${api.key}`;
  const submitted = await fetch(`${apiUrl}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify({ goal, inputs }),
  });
  if (submitted.status !== 202) throw new Error(`POST /v1/jobs answered ${submitted.status}: ${await submitted.text()}`);
  const { jobId } = (await submitted.json()) as { jobId: string };
  print(`submitted job ${jobId}: "${goal}"`);

  const started = Date.now();
  const events = await fetch(`${apiUrl}/v1/jobs/${jobId}/events`, { headers: { accept: 'text/event-stream', authorization } });
  if (!events.ok || !events.body) throw new Error(`GET /v1/jobs/${jobId}/events answered ${events.status}`);
  for await (const message of readSse(events.body)) {
    const event = JobEvent.envelope.parse(JSON.parse(message.data)).payload;
    const at = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
    print(`[${at}s] ${event.event.padEnd(15)} ${event.message}`);
    if (TERMINAL_JOB_EVENTS.includes(event.event)) break;
  }
  const job = (await (await fetch(`${apiUrl}/v1/jobs/${jobId}`, { headers: { authorization } })).json()) as JobState;
  if (job.status === 'succeeded') printReport(job, print);
  else print(`job ${job.status}: ${job.error?.message ?? 'no reason recorded'}`);
  return job;
}

function printReport(job: JobState, print: (line: string) => void): void {
  const report = ReportSchema.parse(job.result);
  // Figures come from the client's filings (`figures`) or, without filings, from the data subnet (`data`).
  const figures = (report.outputs.figures ?? report.outputs.data) as { rows: { entity: string }[] } | undefined;
  const posts = report.outputs.social as { posts: unknown[] } | undefined;
  const results = report.outputs.news as { results: unknown[] } | undefined;
  const analysis = report.outputs.analysis as CitedAnalysis | undefined;
  const code = report.outputs.code as PythonCode | undefined;
  print('');
  print('=== verified report ===');
  if (figures) print(`figures: ${figures.rows.length} rows (${[...new Set(figures.rows.map((r) => r.entity))].join(', ')})`);
  if (posts) print(`social: ${posts.posts.length} posts`);
  if (results) print(`news: ${results.results.length} results`);
  if (analysis) {
    print(`analysis: ${analysis.summary}`);
    for (const finding of analysis.findings) {
      const cited = finding.citations.map((c) => citationOf(c)).map((c) => `${c.item} ${c.index ?? c.url}`);
      print(`  - ${finding.statement} [${cited.join('; ')}]`);
    }
  }
  if (code) {
    print(`code: ${code.entrypoint} (${code.code.split('\n').length} lines, needs ${code.dependencies.join(', ') || 'nothing'})`);
    for (const line of code.code.split('\n').slice(0, 12)) print(`  | ${line}`);
    print('  | …');
  }
  print('provenance:');
  for (const p of report.provenance) {
    print(
      `  ${p.stepId.padEnd(9)} ${p.capability.padEnd(16)} SN${String(p.netuid).padEnd(3)} ${`${p.provider ?? 'axon'} ${p.source ?? `uid${p.uid}`}`.padEnd(24)} attempt ${p.attempt}  ${Math.round(p.latencyMs)} ms  $${(p.costUsd ?? 0).toFixed(6)}  ${p.costTao.toFixed(6)} TAO`,
    );
  }
  print(`spend: ${report.spend.totalTao.toFixed(6)} TAO of a ${report.spend.budgetTao} TAO budget ($${(report.spend.totalUsd ?? 0).toFixed(6)})`);
  print(`full report: GET /v1/jobs/${job.jobId}`);
}
