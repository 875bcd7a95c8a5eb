import { ApiPromise, WsProvider } from '@polkadot/api';
import { u8aToHex } from '@polkadot/util';
import { ChainReader, SUBTENSOR_SIGNED_EXTENSIONS } from '@orchestra/bittensor';
import { FakeSubtensor, generateChainState } from '@orchestra/fake-subtensor';
import { round } from './stats';

/** Subnets x UIDs per size; full is mainnet-scale (64 subnets, 256 UIDs each). */
const SIZES = {
  small: { subnets: 8, neuronsPerSubnet: 64 },
  full: { subnets: 64, neuronsPerSubnet: 256 },
} as const;
/** The naive baseline runs on at most this many subnets (at ~1 ms a round trip, all 64 would take minutes). */
const BASELINE_SUBNETS = 8;

/**
 * Metagraph sync from a fake finney (spec 424) node: ChainReader (runtime API calls —
 * get_neurons_lite, get_subnet_state, get_dynamic_info, current_alpha_price — one round
 * trip per subnet, every subnet in parallel at one block, as metagraph-sync does) against a
 * naive client doing per-neuron storage queries, the way a direct port of per-UID SDK
 * loops would. Rates are neurons/s, so the baseline's smaller sample is comparable.
 * Target: the full size (64 subnets x 256 UIDs) in 2 s or less.
 */
export const chainSyncBench = {
  name: 'chain-sync',
  async run(size: 'small' | 'full'): Promise<Array<Record<string, string | number>>> {
    const { subnets, neuronsPerSubnet } = SIZES[size];
    const state = await generateChainState({ subnets, neuronsPerSubnet });
    const fake = await FakeSubtensor.start({ state, blockTimeMs: 0 });
    try {
      await warmUp(
        fake.url,
        state.subnets.map((s) => s.netuid),
      );
      const reader = await ChainReader.connect(fake.url);
      let batched: { seconds: number; neurons: number };
      try {
        batched = await timed(async () => {
          const netuids = await reader.listSubnets();
          const { hash: at } = await reader.finalizedHead();
          const metagraphs = await Promise.all(netuids.map((netuid) => reader.readMetagraph(netuid, { at })));
          return metagraphs.reduce((sum, m) => sum + m.neurons.length, 0);
        });
      } finally {
        await reader.close();
      }

      const baselineNetuids = state.subnets.slice(0, BASELINE_SUBNETS).map((s) => s.netuid);
      const naive = await naivePerNeuronSync(fake.url, baselineNetuids);

      const rate = (r: { seconds: number; neurons: number }) => r.neurons / r.seconds;
      return [row('ChainReader (runtime APIs)', subnets, batched, rate(batched) / rate(naive)), row('naive per-neuron queries', baselineNetuids.length, naive, 1)];
    } finally {
      await fake.stop();
    }
  },
};

function row(mode: string, subnets: number, result: { seconds: number; neurons: number }, speedup: number) {
  return {
    mode,
    subnets,
    uids: result.neurons,
    seconds: round(result.seconds, 3),
    'neurons/s': Math.round(result.neurons / result.seconds),
    'x baseline': round(speedup, 1),
  };
}

/**
 * The fake node runs in this process and encodes a subnet's runtime-API answers on first
 * request; a real node computes them on its own CPU. Asking for them once beforehand, over a
 * separate client (so the reader's own caches stay cold), keeps the node's work out of the
 * reader's time.
 */
async function warmUp(url: string, netuids: number[]): Promise<void> {
  const api = await ApiPromise.create({ provider: new WsProvider(url), noInitWarn: true, signedExtensions: SUBTENSOR_SIGNED_EXTENSIONS });
  try {
    for (const netuid of netuids) {
      const args = u8aToHex(api.registry.createType('u16', netuid).toU8a());
      await api.rpc.state.call('SubnetInfoRuntimeApi_get_metagraph', args);
    }
  } finally {
    await api.disconnect();
  }
}

/** Per subnet: one query per per-UID vector, then per UID its hotkey and that hotkey's owner, axon and stake. */
async function naivePerNeuronSync(url: string, netuids: number[]): Promise<{ seconds: number; neurons: number }> {
  const api = await ApiPromise.create({
    provider: new WsProvider(url),
    noInitWarn: true,
    signedExtensions: SUBTENSOR_SIGNED_EXTENSIONS,
  });
  try {
    const sm = api.query['subtensorModule'];
    return await timed(async () => {
      let neurons = 0;
      for (const netuid of netuids) {
        const n = Number((await sm['subnetworkN'](netuid)).toString());
        // The per-UID vectors finney still has (Trust went in spec 401).
        for (const item of ['incentive', 'consensus', 'dividends', 'validatorTrust', 'emission', 'lastUpdate', 'validatorPermit', 'active', 'subnetTAO', 'subnetAlphaIn']) {
          await sm[item](netuid);
        }
        for (let uid = 0; uid < n; uid += 1) {
          const hotkey = (await sm['keys'](netuid, uid)).toString();
          await Promise.all([sm['owner'](hotkey), sm['axons'](netuid, hotkey), sm['totalHotkeyAlpha'](hotkey, netuid)]);
          neurons += 1;
        }
      }
      return neurons;
    });
  } finally {
    await api.disconnect();
  }
}

async function timed(work: () => Promise<number>): Promise<{ seconds: number; neurons: number }> {
  const started = process.hrtime.bigint();
  const neurons = await work();
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, neurons };
}
