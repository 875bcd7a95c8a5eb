import { FINAL_STATUSES, Orchestra, type ClientOptions, type JobStatus, type SubmitRequest, type TenantQuotas } from '@orchestra/sdk';
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DLQ_USAGE, dlq } from './dlq';
import { eventLine, jobText, jobsText, keyText, subnetsText, tenantText, usageText } from './format';
import type { Output } from './output';

/** A command line the user got wrong: printed with the command's usage, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly retryable = false;
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | undefined>;

/** What a command gets: its positionals and options, a client factory and where to write. */
export interface CommandContext {
  readonly args: string[];
  readonly values: Values;
  readonly client: (options?: { admin?: boolean }) => Orchestra;
  readonly out: Output;
}

export interface Command {
  readonly usage: string;
  readonly options?: Options;
  /** Runs the command; resolves with the exit code. */
  run(ctx: CommandContext): Promise<number>;
}

/** Options every command takes. */
export const GLOBAL_OPTIONS: Options = {
  url: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
};

export const GLOBAL_USAGE = `Global options: --url <api> --key <api key> (default: ORCHESTRA_URL, ORCHESTRA_API_KEY, else the running
devnet's tmp/devnet/connection.json), --json (machine-readable output), --help.`;

const string = (values: Values, name: string) => values[name] as string | undefined;

function positiveNumber(values: Values, name: string, usage: string): number | undefined {
  const raw = string(values, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`--${name} must be a positive number; got ${JSON.stringify(raw)}`, usage);
  return n;
}

function readJsonFile(path: string, what: string, usage: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${what} ${path}: ${(error as Error).message}`, usage);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${what} ${path} is not JSON: ${(error as Error).message}`, usage);
  }
}

function one(args: string[], what: string, usage: string): string {
  if (args.length !== 1) throw new UsageError(`expected ${what}`, usage);
  return args[0];
}

/** A job's end as an exit code: 0 when it did what was asked (succeeded, planned, or waits for approval). */
const exitFor = (status: string) => (status === 'failed' || status === 'cancelled' ? 1 : 0);

const SUBMIT_USAGE = `usage: orchestra submit "<goal>" [--inputs <file.json>] [--plan <file.json>] [--max-tao <n>] [--max-usd <n>]
                        [--dry-run] [--approval] [--idempotency-key <k>] [--no-wait] [--timeout-ms <n>]
Submits a job and, unless --no-wait, prints its progress until it ends (or awaits approval) and then
the job. Exits 1 when the job failed or was cancelled.`;

const JOBS_USAGE = `usage: orchestra jobs [--status <status>] [--limit <1-100>] [--cursor <nextCursor>] [--tenant <t>]
Lists the tenant's jobs, newest first.`;

const KEYS_USAGE = `usage: orchestra keys create --tenant <t> --scopes submit,read,cancel[,admin] [--expires-at <ISO time>]
       orchestra keys list [--tenant <t>]
       orchestra keys revoke <key id>
Admin: uses the devnet's admin key unless --key or ORCHESTRA_API_KEY says otherwise.`;

const TENANTS_USAGE = `usage: orchestra tenants get <tenant>
       orchestra tenants set <tenant> [--jobs-per-minute <n>] [--concurrent-jobs <n>] [--max-spend-per-job <tao>]
                                      [--spend-per-day <tao>] [--excluded-providers <a,b>]
Admin: a tenant's quotas in force; set merges the ones given.`;

export const COMMANDS: Readonly<Record<string, Command>> = {
  submit: {
    usage: SUBMIT_USAGE,
    options: {
      inputs: { type: 'string' },
      plan: { type: 'string' },
      'max-tao': { type: 'string' },
      'max-usd': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      approval: { type: 'boolean', default: false },
      'idempotency-key': { type: 'string' },
      'no-wait': { type: 'boolean', default: false },
      'timeout-ms': { type: 'string' },
    },
    async run({ args, values, client, out }) {
      const goal = one(args, 'the goal, quoted', SUBMIT_USAGE);
      const maxTao = positiveNumber(values, 'max-tao', SUBMIT_USAGE);
      const maxUsd = positiveNumber(values, 'max-usd', SUBMIT_USAGE);
      const request: SubmitRequest = {
        goal,
        ...(values.inputs ? { inputs: readJsonFile(string(values, 'inputs') as string, 'inputs file', SUBMIT_USAGE) as Record<string, unknown> } : {}),
        ...(values.plan ? { plan: readJsonFile(string(values, 'plan') as string, 'plan file', SUBMIT_USAGE) as SubmitRequest['plan'] } : {}),
        ...(maxTao || maxUsd ? { limits: { ...(maxTao ? { maxTao } : {}), ...(maxUsd ? { maxUsd } : {}) } } : {}),
        ...(values['dry-run'] ? { dryRun: true } : {}),
        ...(values.approval ? { approval: 'required' as const } : {}),
      };
      const api = client();
      const accepted = await api.submit(request, { idempotencyKey: string(values, 'idempotency-key') });
      if (values['no-wait']) {
        out.result(accepted, () => `${accepted.jobId}  ${accepted.status}  (follow it: orchestra show ${accepted.jobId})`);
        return 0;
      }
      out.progress(`submitted ${accepted.jobId}`);
      const job = await api.wait(accepted.jobId, { timeoutMs: positiveNumber(values, 'timeout-ms', SUBMIT_USAGE), onEvent: (e) => out.progress(eventLine(e)) });
      out.result(job, () => jobText(job));
      if (job.status === 'awaiting_approval') out.progress(`approve it: orchestra approve ${job.jobId}`);
      return exitFor(job.status);
    },
  },
  jobs: {
    usage: JOBS_USAGE,
    options: { status: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' }, tenant: { type: 'string' } },
    async run({ values, client, out }) {
      const limit = positiveNumber(values, 'limit', JOBS_USAGE);
      const page = await client().list({ status: string(values, 'status') as JobStatus | undefined, limit, cursor: string(values, 'cursor'), tenant: string(values, 'tenant') });
      out.result(page, () => jobsText(page));
      return 0;
    },
  },
  show: {
    usage: 'usage: orchestra show <job id>\nThe job: status, plan, every attempt (provider, source, verdict, reason, cost), error and result.',
    async run({ args, client, out }) {
      const job = await client().get(one(args, 'a job id', this.usage));
      out.result(job, () => jobText(job));
      return FINAL_STATUSES.includes(job.status) ? exitFor(job.status) : 0;
    },
  },
  cancel: {
    usage: 'usage: orchestra cancel <job id> [--reason <text>]\nAsks the planner to stop the job.',
    options: { reason: { type: 'string' } },
    async run({ args, values, client, out }) {
      const accepted = await client().cancel(one(args, 'a job id', this.usage), string(values, 'reason'));
      out.result(accepted, () => `${accepted.jobId}  ${accepted.status}`);
      return 0;
    },
  },
  approve: {
    usage: 'usage: orchestra approve <job id> [--plan <file.json>]\nRuns a job awaiting approval: its plan as shown, or the edited plan in the file.',
    options: { plan: { type: 'string' } },
    async run({ args, values, client, out }) {
      const plan = values.plan ? (readJsonFile(string(values, 'plan') as string, 'plan file', this.usage) as SubmitRequest['plan']) : undefined;
      const job = await client().approve(one(args, 'a job id', this.usage), plan);
      out.result(job, () => `${job.jobId}  ${job.status}`);
      return 0;
    },
  },
  keys: {
    usage: KEYS_USAGE,
    options: { tenant: { type: 'string' }, scopes: { type: 'string' }, 'expires-at': { type: 'string' } },
    async run({ args, values, client, out }) {
      const api = client({ admin: true });
      const [sub, ...rest] = args;
      if (sub === 'create') {
        const tenant = string(values, 'tenant');
        const scopes = string(values, 'scopes')
          ?.split(',')
          .map((s) => s.trim());
        if (!tenant || !scopes) throw new UsageError('keys create needs --tenant and --scopes', KEYS_USAGE);
        const key = await api.keys.create({ tenant, scopes: scopes as never, ...(values['expires-at'] ? { expiresAt: string(values, 'expires-at') } : {}) });
        out.result(key, () => keyText(key));
      } else if (sub === 'list') {
        const keys = await api.keys.list(string(values, 'tenant'));
        out.result(keys, () => (keys.length === 0 ? 'no keys' : keys.map((k) => keyText(k)).join('\n')));
      } else if (sub === 'revoke') {
        const key = await api.keys.revoke(one(rest, 'a key id', KEYS_USAGE));
        out.result(key, () => `revoked ${keyText(key)}`);
      } else throw new UsageError(`unknown keys command ${JSON.stringify(sub ?? '')}`, KEYS_USAGE);
      return 0;
    },
  },
  tenants: {
    usage: TENANTS_USAGE,
    options: {
      'jobs-per-minute': { type: 'string' },
      'concurrent-jobs': { type: 'string' },
      'max-spend-per-job': { type: 'string' },
      'spend-per-day': { type: 'string' },
      'excluded-providers': { type: 'string' },
    },
    async run({ args, values, client, out }) {
      const api = client({ admin: true });
      const [sub, ...rest] = args;
      const name = one(rest, 'a tenant', TENANTS_USAGE);
      if (sub === 'get') {
        const tenant = await api.tenants.get(name);
        out.result(tenant, () => tenantText(tenant));
        return 0;
      }
      if (sub !== 'set') throw new UsageError(`unknown tenants command ${JSON.stringify(sub ?? '')}`, TENANTS_USAGE);
      const n = (option: string) => positiveNumber(values, option, TENANTS_USAGE);
      const patch: TenantQuotas = {
        ...(values['jobs-per-minute'] ? { jobsPerMinute: n('jobs-per-minute') } : {}),
        ...(values['concurrent-jobs'] ? { concurrentJobs: n('concurrent-jobs') } : {}),
        ...(values['max-spend-per-job'] ? { maxSpendPerJob: { tao: n('max-spend-per-job') } } : {}),
        ...(values['spend-per-day'] ? { spendPerDay: { tao: n('spend-per-day') } } : {}),
        ...(values['excluded-providers'] !== undefined ? { excludedProviders: (string(values, 'excluded-providers') as string).split(',').filter(Boolean) } : {}),
      };
      if (Object.keys(patch).length === 0) throw new UsageError('tenants set needs at least one quota to change', TENANTS_USAGE);
      const tenant = await api.tenants.set(name, patch);
      out.result(tenant, () => tenantText(tenant));
      return 0;
    },
  },
  usage: {
    usage: "usage: orchestra usage [--tenant <t>]\nThe tenant's jobs and spend (settled and reserved) per UTC day.",
    options: { tenant: { type: 'string' } },
    async run({ values, client, out }) {
      const usage = await client().usage(string(values, 'tenant'));
      out.result(usage, () => usageText(usage));
      return 0;
    },
  },
  subnets: {
    usage: "usage: orchestra subnets\nPer capability, its providers in order and each one's best sources (GET /v1/subnets).",
    async run({ client, out }) {
      const view = await client().subnets();
      out.result(view, () => subnetsText(view));
      return 0;
    },
  },
  dlq: {
    usage: DLQ_USAGE,
    options: { consumer: { type: 'string' }, limit: { type: 'string' }, remove: { type: 'boolean', default: false } },
    async run({ args, values, out }) {
      const [sub, seqArg] = args;
      const seq = Number(seqArg);
      if (!['list', 'show', 'replay'].includes(sub) || (sub !== 'list' && !Number.isSafeInteger(seq))) throw new UsageError('expected list, show <seq> or replay <seq>', DLQ_USAGE);
      return dlq(sub, seq, { consumer: string(values, 'consumer'), limit: positiveNumber(values, 'limit', DLQ_USAGE), remove: values.remove === true }, out);
    },
  },
};

/** Parses a command's arguments (its options and the global ones); UsageError on anything unknown. */
export function parseCommand(command: Command, argv: string[]): { args: string[]; values: Values } {
  try {
    const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { ...GLOBAL_OPTIONS, ...command.options } });
    return { args: positionals, values: values as Values };
  } catch (error) {
    throw new UsageError((error as Error).message, command.usage);
  }
}

/** The client for a command: the global options over the environment and the devnet's connection file. */
export function clientFactory(values: Values, env: NodeJS.ProcessEnv) {
  return (options: { admin?: boolean } = {}) => {
    const base: ClientOptions = { url: string(values, 'url'), key: string(values, 'key'), env };
    return new Orchestra({ ...base, ...options });
  };
}
