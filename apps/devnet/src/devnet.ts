import { loadHotkey } from '@orchestra/bittensor';
import { SimulatedMiner, startSimulatedMiner } from '@orchestra/devnet-miners';
import { ChainState, FakeSubtensor, NeuronState, SubnetState } from '@orchestra/fake-subtensor';
import { DevnetConfig } from './devnet-config';

const RAO_PER_TAO = 1_000_000_000n;
const U16_MAX = 65_535;

/** The well-known development validator key, registered with stake on every subnet (as subtensor's localnet does). */
export const DEVNET_VALIDATOR_URI = '//Alice';

/** A running devnet: a fake subtensor node and the simulated miners registered on it. */
export interface Devnet {
  readonly chain: FakeSubtensor;
  readonly miners: ReadonlyArray<SimulatedMiner & { behaviour: string }>;
  stop(): Promise<void>;
}

/**
 * Starts the embedded network: simulated miners for every configured subnet (each a
 * real server on loopback speaking its subnet's protocol), then a fake subtensor node
 * whose chain registers them — UID 0 of every subnet is the staked validator //Alice,
 * UIDs 1..n the miners with incentive falling in config order, axons at their ports.
 * Miners refuse callers that are not validators with a permit on the chain.
 */
export async function startDevnet(config: DevnetConfig, opts: { host?: string; chainPort?: number } = {}): Promise<Devnet> {
  const host = opts.host ?? '127.0.0.1';
  const validator = await loadHotkey(DEVNET_VALIDATOR_URI);
  const validators = new Set([validator.address]);
  const miners: Array<SimulatedMiner & { behaviour: string }> = [];
  const stopAll = () => Promise.allSettled(miners.map((m) => m.stop()));
  try {
    for (const subnet of config.subnets) {
      for (const [index, behaviour] of subnet.miners.entries()) {
        const uid = index + 1;
        const miner = await startSimulatedMiner({
          netuid: subnet.netuid,
          uid,
          hotkey: await loadHotkey(`//Orchestra/devnet/sn${subnet.netuid}/uid${uid}`),
          behaviour,
          host,
          slowMs: config.slowMs,
          blacklist: (hotkey) => (hotkey && validators.has(hotkey) ? undefined : 'not a validator with a permit on this subnet'),
          priority: (hotkey) => (validators.has(hotkey) ? 1 : 0),
        });
        miners.push({ ...miner, behaviour });
      }
    }
    const state = chainState(config, validator.address, miners);
    const chain = await FakeSubtensor.start({ state, host, port: opts.chainPort ?? 9944, blockTimeMs: config.blockTimeMs });
    return {
      chain,
      miners,
      stop: async () => {
        await chain.stop();
        await stopAll();
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** The chain as the devnet registers it. */
export function chainState(config: DevnetConfig, validatorHotkey: string, miners: ReadonlyArray<SimulatedMiner & { behaviour: string }>): ChainState {
  return {
    subnets: config.subnets.map((subnet): SubnetState => {
      const own = miners.filter((m) => m.netuid === subnet.netuid).sort((a, b) => a.uid - b.uid);
      // Colluders are a Sybil ring, as on the real network: several hotkeys of one coldkey.
      const ring = own.find((m) => m.behaviour === 'colluding')?.hotkey;
      const validator: NeuronState = {
        ...neuronDefaults(0, validatorHotkey),
        stakeRao: 100_000n * RAO_PER_TAO,
        validatorPermit: true,
        validatorTrust: U16_MAX,
        dividends: U16_MAX,
      };
      const served = own.map(
        (m, i): NeuronState => ({
          ...neuronDefaults(m.uid, m.hotkey),
          coldkey: m.behaviour === 'colluding' && ring ? ring : m.hotkey,
          stakeRao: BigInt(1_000 - 100 * Math.min(i, 9)) * RAO_PER_TAO,
          emissionRao: BigInt(Math.max(1, 50 - 5 * i)) * 10_000_000n,
          // Incentive falls with config order, so the dispatcher ranks miners in that order.
          incentive: Math.round(U16_MAX * Math.max(0.05, 0.9 - 0.12 * i)),
          consensus: Math.round(U16_MAX * Math.max(0.05, 0.85 - 0.1 * i)),
          trust: Math.round(U16_MAX * 0.9),
          axon: { ip: m.host, port: m.port, ipType: 4, protocol: 4, version: 9_012_000 },
        }),
      );
      return {
        netuid: subnet.netuid,
        taoReserveRao: BigInt(Math.round(subnet.taoReserve)) * RAO_PER_TAO,
        alphaReserveRao: BigInt(Math.round(subnet.alphaReserve)) * RAO_PER_TAO,
        neurons: [validator, ...served],
      };
    }),
  };
}

function neuronDefaults(uid: number, hotkey: string): NeuronState {
  return {
    uid,
    hotkey,
    // Devnet coldkeys own one hotkey each; the validator's coldkey is its own address.
    coldkey: hotkey,
    stakeRao: 0n,
    emissionRao: 0n,
    incentive: 0,
    trust: 0,
    consensus: 0,
    dividends: 0,
    validatorTrust: 0,
    validatorPermit: false,
    active: true,
    lastUpdate: 0,
    axon: null,
  };
}
