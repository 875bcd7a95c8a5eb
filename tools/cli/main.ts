import { ApiError, OrchestraError } from '@orchestra/sdk';
import { COMMANDS, GLOBAL_USAGE, UsageError, clientFactory, parseCommand } from './commands';
import { consoleOutput } from './output';

const USAGE = `usage: orchestra <command> [options]   (npm run orchestra -- <command> …)
Commands:
  submit "<goal>"      submit a job and follow it (--no-wait to return at once)
  jobs                 list the tenant's jobs
  show <id>            a job's status, attempts, error and result
  cancel <id>          stop a job
  approve <id>         run a job awaiting approval
  keys create|list|revoke     API keys (admin)
  tenants get|set <tenant>    tenants' quotas (admin)
  usage                jobs and spend per day
  subnets              providers and sources per capability
  dlq list|show|replay dead letters (over NATS, as the operator)
Run orchestra <command> --help for a command's options.
${GLOBAL_USAGE}`;

/**
 * The CLI over the SDK. Exit codes: 0 done, 1 the request or the job failed, 2 the
 * command line was wrong.
 */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [name, ...rest] = argv;
  const json = rest.includes('--json');
  const out = consoleOutput(json);
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out.result({ usage: USAGE }, () => USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    out.error(`orchestra: unknown command ${JSON.stringify(name)}\n${USAGE}`);
    return 2;
  }
  try {
    const { args, values } = parseCommand(command, rest);
    if (values.help) {
      out.result({ usage: command.usage }, () => `${command.usage}\n${GLOBAL_USAGE}`);
      return 0;
    }
    return await command.run({ args, values, client: clientFactory(values, env), out });
  } catch (error) {
    if (error instanceof UsageError) {
      out.error(`orchestra ${name}: ${error.message}\n${error.usage}`);
      return 2;
    }
    if (error instanceof ApiError) {
      const fields = (error.problem.errors ?? []).map((e) => `  ${e.pointer ?? e.header ?? e.parameter ?? ''}: ${e.detail}`);
      out.error([`orchestra ${name}: ${error.message}`, ...fields].join('\n'));
      if (json) out.result({ error: error.problem }, () => '');
      return 1;
    }
    out.error(`orchestra ${name}: ${error instanceof OrchestraError ? error.message : ((error as Error).stack ?? String(error))}`);
    return 1;
  }
}

if (require.main === module) {
  // exitCode rather than exit(): a piped stdout is written asynchronously and exit() would cut it short.
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
