import { DevnetStack, REPO_ROOT, startDevnetStack } from '@orchestra/testing';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What a run of the CLI printed and how it exited. */
interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const PLAN = [{ id: 'chart', capability: 'code.python', input: { task: 'Chart the revenue per year', rows: { $ref: '/inputs/rows' } } }];
const INPUTS = {
  rows: [
    { entity: 'AAPL', period: 'FY2022', metric: 'revenue', value: 394328, unit: 'USD_millions', source: 'AAPL 10-K FY2022' },
    { entity: 'AAPL', period: 'FY2023', metric: 'revenue', value: 383285, unit: 'USD_millions', source: 'AAPL 10-K FY2023' },
  ],
};

/** The `orchestra` CLI (tools/cli), run as a user runs it, against the devnet stack in separate processes. */
describe('CLI (tools/cli) against the devnet', () => {
  let stack: DevnetStack;
  let env: NodeJS.ProcessEnv;
  let files: { plan: string; inputs: string };

  const cli = (...args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        ['-r', '@swc-node/register', join(REPO_ROOT, 'tools', 'cli', 'main.ts'), ...args],
        { cwd: REPO_ROOT, env, timeout: 90_000 },
        (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      );
    });

  beforeAll(async () => {
    stack = await startDevnetStack({ ports: 'auto', logDir: mkdtempSync(join(tmpdir(), 'orchestra-cli-')), gateways: true, serviceEnv: { ORCH_MINER_TIMEOUT_MS: '3000' } });
    const dir = mkdtempSync(join(tmpdir(), 'orchestra-cli-files-'));
    const connection = join(dir, 'connection.json');
    writeFileSync(connection, JSON.stringify({ api: stack.api, nats: { servers: stack.natsUrl, ...stack.natsAccess } }), { mode: 0o600 });
    files = { plan: join(dir, 'plan.json'), inputs: join(dir, 'inputs.json') };
    writeFileSync(files.plan, JSON.stringify(PLAN));
    writeFileSync(files.inputs, JSON.stringify(INPUTS));
    // The API through the connection file (as after npm run devnet); dead letters over the operator's NATS.
    env = {
      PATH: process.env.PATH,
      ORCHESTRA_CONNECTION_FILE: connection,
      ORCH_NATS_URL: stack.natsUrl,
      ...(stack.natsAccess.user ? { ORCH_NATS_USER: stack.natsAccess.user, ORCH_NATS_PASSWORD: stack.natsAccess.pass } : {}),
    };
  }, 120_000);
  afterAll(() => stack?.stop(), 60_000);

  it('submits and follows a job to the end, then lists, shows and reports usage', async () => {
    const run = await cli('submit', 'chart reported revenue', '--plan', files.plan, '--inputs', files.inputs);
    expect(run).toMatchObject({ code: 0 });
    expect(run.stdout).toMatch(/submitted (job_\w+)/);
    expect(run.stdout).toContain('job.accepted');
    expect(run.stdout).toContain('step.verified');
    expect(run.stdout).toMatch(/job_\w+ {2}succeeded/);
    const jobId = /submitted (job_\w+)/.exec(run.stdout)?.[1] as string;

    const jobs = await cli('jobs', '--json');
    expect(jobs.code).toBe(0);
    expect((JSON.parse(jobs.stdout) as { jobs: Array<{ jobId: string }> }).jobs.map((j) => j.jobId)).toContain(jobId);
    expect((await cli('jobs')).stdout).toContain(jobId);

    const show = await cli('show', jobId);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/step chart \[code\.python\] verified/);
    expect(show.stdout).toMatch(/#1 chutes devnet\/good-llm SN64: verified/);
    expect((await cli('usage')).stdout).toMatch(/tenant dev: \d+ running/);
  }, 120_000);

  it('exits 1 when the job fails or the API refuses, 2 on a wrong command line', async () => {
    const failed = await cli('submit', 'too dear to plan', '--plan', files.plan, '--inputs', files.inputs, '--max-tao', '0.000001');
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('failed');

    const ghost = await cli('show', 'job_ghost');
    expect(ghost).toMatchObject({ code: 1 });
    expect(ghost.stderr).toContain('Job not found (404)');
    const invalid = await cli('submit', '', '--no-wait');
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('/goal');

    expect((await cli('submit')).code).toBe(2);
    expect((await cli('jobs', '--bogus')).code).toBe(2);
    expect((await cli('nonsense')).code).toBe(2);
  }, 120_000);

  it('submits without waiting, cancels, and answers --help for every command', async () => {
    const submitted = await cli('submit', 'wait for me', '--plan', files.plan, '--inputs', files.inputs, '--approval', '--no-wait', '--json');
    expect(submitted.code).toBe(0);
    const { jobId } = JSON.parse(submitted.stdout) as { jobId: string };
    const cancel = await cli('cancel', jobId, '--reason', 'not today');
    expect(cancel).toMatchObject({ code: 0 });
    expect(cancel.stdout).toContain('cancel_requested');

    for (const command of ['submit', 'jobs', 'show', 'cancel', 'approve', 'keys', 'tenants', 'usage', 'subnets', 'dlq']) {
      const help = await cli(command, '--help');
      expect({ command, code: help.code, usage: help.stdout.startsWith('usage: orchestra') }).toEqual({ command, code: 0, usage: true });
    }
    expect((await cli('--help')).stdout).toContain('Commands:');
  }, 120_000);

  it('manages keys and tenants with the admin key, ranks subnets and lists dead letters', async () => {
    const created = await cli('keys', 'create', '--tenant', 'cli-tenant', '--scopes', 'read,submit', '--json');
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout) as { id: string; key: string };
    expect(key.key).toMatch(/^orch_/);
    expect((await cli('keys', 'list', '--tenant', 'cli-tenant')).stdout).toMatch(new RegExp(`${key.id} +cli-tenant +read,submit +active`));
    expect((await cli('keys', 'revoke', key.id)).stdout).toContain(`revoked ${key.id}`);

    const set = await cli('tenants', 'set', 'cli-tenant', '--jobs-per-minute', '7', '--spend-per-day', '3');
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/jobsPerMinute +7 \(set\)/);
    expect((await cli('tenants', 'get', 'cli-tenant')).stdout).toMatch(/spendPerDay +3 TAO \(set\)/);

    const subnets = await cli('subnets');
    expect(subnets.code).toBe(0);
    expect(subnets.stdout).toMatch(/code\.python\n {2}1\. chutes \(SN64\)/);
    expect(subnets.stdout).toMatch(/data\.social\n {2}1\. constellation \(SN13\)/);

    const letters = await cli('dlq', 'list');
    expect(letters.code).toBe(0);
    expect(letters.stdout.length).toBeGreaterThan(0);
  }, 120_000);
});
