import { parseArgs } from 'node:util';
import { checkNetwork, formatReport, formatSubnets } from './check';

const USAGE = `usage: npm run network:check [-- --json] [--timeout-ms <n>]
       npm run subnets [-- --json]
Checks the network the environment configures, as the services read it: ORCH_NETWORK=finney|devnet
(or ORCH_SUBTENSOR_URL, ORCH_NETUIDS… one by one), the hotkey (ORCH_HOTKEY_ADDRESS, ORCH_HOTKEY_FILE
or ORCH_HOTKEY), ORCH_AXON_REQUIRED_STAKE, and the gateways' keys (ORCH_*_API_KEY or ORCH_*_API_KEY_FILE).
network:check prints the chain (reachable, runtime, block), our hotkey, each subnet's axon access and
stake, and whether each gateway's key works; it exits 1 when nothing is usable, 2 on bad settings.
subnets prints the chain part only; it exits 1 when the chain cannot be read.`;

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, 'timeout-ms': { type: 'string' }, help: { type: 'boolean', default: false } },
  });
  const [command] = positionals;
  const timeoutMs = values['timeout-ms'] === undefined ? undefined : Number(values['timeout-ms']);
  if (values.help || !['check', 'subnets'].includes(command) || (timeoutMs !== undefined && !(timeoutMs > 0))) {
    console.error(USAGE);
    return 2;
  }
  const subnetsOnly = command === 'subnets';
  const report = await checkNetwork(process.env, { timeoutMs, gateways: !subnetsOnly });
  if (values.json) console.log(JSON.stringify(report, null, 2));
  else if (subnetsOnly && report.problems.length === 0 && report.chain?.ok)
    console.log([`${report.chain.url} at block ${report.chain.block}, hotkey ${report.hotkey?.address ?? report.hotkey?.error}`, ...formatSubnets(report)].join('\n'));
  else console.log(formatReport(report));
  if (report.problems.length > 0) return 2;
  if (subnetsOnly) return report.chain?.ok ? 0 : 1;
  return report.ok ? 0 : 1;
}

// exitCode rather than exit(): a piped stdout is written asynchronously and exit() would cut
// the report short. Should a gateway's keep-alive socket hold the process, it still ends soon.
main().then(
  (code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), 2_000).unref();
  },
  (error: unknown) => {
    console.error(`network check failed: ${(error as Error).message}`);
    process.exitCode = 1;
  },
);
