import { createServer } from 'node:net';
import { loadHotkey } from '@orchestra/bittensor';
import { Blacklist, dataUniverseBlacklist, desearchBlacklist, MetagraphView, SimulatedMiner, startSimulatedMiner } from '@orchestra/devnet-miners';
import { chainTotalStake, ChainState, FakeSubtensor, NeuronState, SubnetState } from '@orchestra/fake-subtensor';
import { DevnetConfig } from './devnet-config';

const RAO_PER_TAO = 1_000_000_000n;
const U16_MAX = 65_535;

/** The well-known development validator key, registered with stake on every subnet (as subtensor's localnet does). */
export const DEVNET_VALIDATOR_URI = '//Alice';

/**
 * Other validators of every subnet, as on finney: permits, the big stakes, the dividends and a
 * served axon. Their axons lead nowhere (a closed loopback port), so a ranking that hires
 * validators shows as refused calls in the example.
 */
const OTHER_VALIDATORS = 2;
/** Dividends of //Alice and the other validators, u16 shares summing to 65535. */
const VALIDATOR_DIVIDENDS = [26_214, 22_938, 16_383];
/** The block the miners registered at; their LastUpdate stays there (only weight setters update it). */
const REGISTRATION_BLOCK = 1;

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
 * UIDs 1..n the miners with incentive falling in config order, axons at their ports,
 * then more validators with big stakes (see OTHER_VALIDATORS).
 * Miners refuse callers that are not validators with a permit on the chain; SN13 and SN22
 * miners apply their subnets' real blacklists to the chain's neurons (subnetBlacklist). With
 * `gatewayOnly`, //Alice is registered without stake or permit, so every miner refuses Orchestra.
 */
export async function startDevnet(config: DevnetConfig, opts: { host?: string; chainPort?: number; gatewayOnly?: boolean } = {}): Promise<Devnet> {
  const host = opts.host ?? '127.0.0.1';
  const validator = await loadHotkey(DEVNET_VALIDATOR_URI);
  const validators = new Set(opts.gatewayOnly ? [] : [validator.address]);
  const miners: Array<SimulatedMiner & { behaviour: string }> = [];
  const stopAll = () => Promise.allSettled(miners.map((m) => m.stop()));
  // The chain starts after the miners (it registers their ports): until then they know no one.
  let chain: FakeSubtensor | undefined;
  try {
    for (const subnet of config.subnets) {
      const blacklist =
        subnetBlacklist(subnet, () => chainNeurons(chain?.state, subnet.netuid)) ??
        ((hotkey: string | undefined) => (hotkey && validators.has(hotkey) ? undefined : 'not a validator with a permit on this subnet'));
      for (const [index, behaviour] of subnet.miners.entries()) {
        const uid = index + 1;
        const miner = await startSimulatedMiner({
          netuid: subnet.netuid,
          uid,
          hotkey: await loadHotkey(`//Orchestra/devnet/sn${subnet.netuid}/uid${uid}`),
          behaviour,
          host,
          slowMs: config.slowMs,
          blacklist,
          priority: (hotkey) => (validators.has(hotkey) ? 1 : 0),
        });
        miners.push({ ...miner, behaviour });
      }
    }
    const others = await Promise.all(
      config.subnets.flatMap((subnet) =>
        Array.from({ length: OTHER_VALIDATORS }, async (_, k) => ({
          netuid: subnet.netuid,
          hotkey: (await loadHotkey(`//Orchestra/devnet/sn${subnet.netuid}/validator${k}`)).address,
          port: await unusedPort(host),
        })),
      ),
    );
    const state = chainState(
      config,
      validator.address,
      miners,
      others.map((v) => ({ ...v, host })),
      { orchestraStaked: !opts.gatewayOnly },
    );
    const started = (chain = await FakeSubtensor.start({ state, host, port: opts.chainPort ?? 9944, blockTimeMs: config.blockTimeMs }));
    return {
      chain: started,
      miners,
      stop: async () => {
        await started.stop();
        await stopAll();
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * The real blacklist of a data subnet's miners, judging callers by the chain (SN13: permit,
 * stake >= `minValidatorStake` (default 10,000) and the hourly limits; SN22: registered, alpha
 * >= 20 and total stake >= `minValidatorStake` (default 20,000), 500 a minute); undefined for
 * other subnets.
 */
export function subnetBlacklist(subnet: { netuid: number; minValidatorStake?: number }, metagraph: MetagraphView): Blacklist | undefined {
  if (subnet.netuid === 13) return dataUniverseBlacklist({ metagraph, minStake: subnet.minValidatorStake });
  if (subnet.netuid === 22) return desearchBlacklist({ metagraph, minTotalStake: subnet.minValidatorStake });
  return undefined;
}

/** A subnet's neurons as a miner's metagraph shows them (stake as the chain computes it). */
function chainNeurons(state: ChainState | undefined, netuid: number): ReturnType<MetagraphView> {
  const neurons = state?.subnets.find((s) => s.netuid === netuid)?.neurons ?? [];
  return neurons.map((n) => ({ hotkey: n.hotkey, validatorPermit: n.validatorPermit, alphaStakeRao: n.alphaStakeRao.toString(), totalStakeRao: chainTotalStake(n).toString() }));
}

/** A validator other than //Alice, and where its axon is said to be. */
export interface DevnetValidator {
  netuid: number;
  hotkey: string;
  host: string;
  port: number;
}

/**
 * //Alice's stake on every subnet when staked: well above what SN13 (permit and S >= 10,000) and
 * SN22 (alpha >= 20, S >= 20,000) demand of callers (libs/bittensor SUBNET_AXON_RULES), and
 * enough for a permit.
 */
export const ORCHESTRA_STAKE = { alphaStakeRao: 100_000n * RAO_PER_TAO, taoStakeRao: 10_000n * RAO_PER_TAO };

/**
 * The chain as the devnet registers it. `orchestraStaked: false` (gateway-only) registers
 * //Alice as a bare neuron: no stake, no permit, no dividends (its share goes to the next
 * validator), so metagraph-sync reports no axon access anywhere.
 */
export function chainState(
  config: DevnetConfig,
  validatorHotkey: string,
  miners: ReadonlyArray<SimulatedMiner & { behaviour: string }>,
  otherValidators: readonly DevnetValidator[] = [],
  { orchestraStaked = true }: { orchestraStaked?: boolean } = {},
): ChainState {
  return {
    subnets: config.subnets.map((subnet): SubnetState => {
      const own = miners.filter((m) => m.netuid === subnet.netuid).sort((a, b) => a.uid - b.uid);
      // Colluders are a Sybil ring, as on the real network: several hotkeys of one coldkey.
      const ring = own.find((m) => m.behaviour === 'colluding')?.hotkey;
      const validator: NeuronState = orchestraStaked
        ? { ...validatorDefaults(0, validatorHotkey, VALIDATOR_DIVIDENDS[0]), ...ORCHESTRA_STAKE }
        : neuronDefaults(0, validatorHotkey);
      const dividendsOf = (k: number) => VALIDATOR_DIVIDENDS[(k + 1) % VALIDATOR_DIVIDENDS.length] + (!orchestraStaked && k === 0 ? VALIDATOR_DIVIDENDS[0] : 0);
      const incentives = fallingShares(own.length);
      const served = own.map((m, i): NeuronState => ({
        ...neuronDefaults(m.uid, m.hotkey),
        coldkey: m.behaviour === 'colluding' && ring ? ring : m.hotkey,
        alphaStakeRao: BigInt(1_000 - 100 * Math.min(i, 9)) * RAO_PER_TAO,
        emissionRao: BigInt(Math.max(1, 50 - 5 * i)) * 10_000_000n,
        // Incentive falls with config order, so the dispatcher ranks miners in that order.
        incentive: incentives[i],
        consensus: Math.round(U16_MAX * Math.max(0.05, 0.85 - 0.1 * i)),
        lastUpdate: REGISTRATION_BLOCK,
        axon: { ip: m.host, port: m.port, ipType: 4, protocol: 4, version: 9_012_000 },
      }));
      const others = otherValidators
        .filter((v) => v.netuid === subnet.netuid)
        .map((v, k): NeuronState => ({
          ...validatorDefaults(own.length + 1 + k, v.hotkey, dividendsOf(k)),
          alphaStakeRao: BigInt(300_000 - 50_000 * k) * RAO_PER_TAO,
          taoStakeRao: 50_000n * RAO_PER_TAO,
          axon: { ip: v.host, port: v.port, ipType: 4, protocol: 4, version: 9_012_000 },
        }));
      return {
        netuid: subnet.netuid,
        taoReserveRao: BigInt(Math.round(subnet.taoReserve)) * RAO_PER_TAO,
        alphaReserveRao: BigInt(Math.round(subnet.alphaReserve)) * RAO_PER_TAO,
        // The devnet's pool quotes its reserve ratio; a client reads it from the chain all the same.
        alphaPriceRao: BigInt(Math.round((subnet.taoReserve / subnet.alphaReserve) * 1e9)),
        neurons: [validator, ...served, ...others],
      };
    }),
  };
}

/** `count` incentives falling in order (0.9, 0.78, … floored at 0.05) as u16 shares summing to 65535, as on chain. */
function fallingShares(count: number): number[] {
  const weights = Array.from({ length: count }, (_, i) => Math.max(0.05, 0.9 - 0.12 * i));
  const total = weights.reduce((a, b) => a + b, 0);
  const shares = weights.map((w) => Math.floor((w / total) * U16_MAX));
  if (count > 0) shares[0] += U16_MAX - shares.reduce((a, b) => a + b, 0);
  return shares;
}

function validatorDefaults(uid: number, hotkey: string, dividends: number): NeuronState {
  return { ...neuronDefaults(uid, hotkey), validatorPermit: true, validatorTrust: U16_MAX, dividends, active: true };
}

/** A loopback port nothing listens on (bound once, then released). */
async function unusedPort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function neuronDefaults(uid: number, hotkey: string): NeuronState {
  return {
    uid,
    hotkey,
    // Devnet coldkeys own one hotkey each; the validator's coldkey is its own address.
    coldkey: hotkey,
    alphaStakeRao: 0n,
    taoStakeRao: 0n,
    emissionRao: 0n,
    incentive: 0,
    consensus: 0,
    dividends: 0,
    validatorTrust: 0,
    validatorPermit: false,
    // Miners are inactive on today's chain: only weight setters (validators) are active.
    active: false,
    lastUpdate: 0,
    axon: null,
  };
}
