import type { Metagraph, Neuron } from '@orchestra/contracts';
import { FakeSubtensor, generateChainState, type ChainState, type NeuronState } from '@orchestra/fake-subtensor';
import { axonAccess, axonAccessRule, DEFAULT_AXON_RULE, missingAlphaRao, parseRequiredStakes, quoteAt, subnetAccess, SUBNET_AXON_RULES, taoForAlpha } from './access';
import { ChainReader } from './chain-reader';

const RAO = 1_000_000_000n;
const OURS = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';

function neuron(overrides: Partial<Neuron>): Neuron {
  return {
    uid: 0,
    hotkey: OURS,
    coldkey: OURS,
    alphaStakeRao: '0',
    totalStakeRao: '0',
    emissionRao: '0',
    incentive: 0,
    consensus: 0,
    dividends: 0,
    validatorPermit: false,
    active: true,
    lastUpdate: 0,
    axon: null,
    ...overrides,
  };
}

const stakes = (alpha: number, total: number) => ({ alphaStakeRao: (BigInt(alpha) * RAO).toString(), totalStakeRao: (BigInt(total) * RAO).toString() });

describe('axonAccess: the subnets’ blacklists applied to our hotkey', () => {
  const sn13 = SUBNET_AXON_RULES[13];
  const sn22 = SUBNET_AXON_RULES[22];

  it('lets a permitted validator with S >= 10,000 query SN13, and says why not otherwise', () => {
    const ok = axonAccess({ netuid: 13, neurons: [neuron({ uid: 3, validatorPermit: true, ...stakes(9_000, 10_500) })] }, OURS, sn13);
    expect(ok).toEqual({ hotkey: OURS, uid: 3, validatorPermit: true, stakeAlpha: 9_000, stakeTao: 1_500, requiredStake: 10_000, eligible: true, reason: 'ok' });

    const noPermit = axonAccess({ netuid: 13, neurons: [neuron({ uid: 3, validatorPermit: false, ...stakes(50_000, 50_000) })] }, OURS, sn13);
    expect(noPermit.eligible).toBe(false);
    expect(noPermit.reason).toMatch(/SN13 axons would refuse us: UID 3 holds no validator permit/);

    const poor = axonAccess({ netuid: 13, neurons: [neuron({ validatorPermit: true, ...stakes(4_000, 5_000) })] }, OURS, sn13);
    expect(poor.eligible).toBe(false);
    expect(poor.reason).toMatch(/stake 5,000 is below the 10,000 required \(data-universe is_validator\)/);
  });

  it('asks SN22 callers for alpha >= 20 and S >= 20,000 but no permit', () => {
    expect(axonAccess({ netuid: 22, neurons: [neuron({ ...stakes(25_000, 25_000) })] }, OURS, sn22).eligible).toBe(true);
    // Root stake alone makes S, but the alpha condition still fails.
    const rootOnly = axonAccess({ netuid: 22, neurons: [neuron({ ...stakes(10, 30_000) })] }, OURS, sn22);
    expect(rootOnly).toMatchObject({ eligible: false, stakeAlpha: 10, stakeTao: 29_990 });
    expect(rootOnly.reason).toMatch(/alpha stake 10 is below the 20 required/);
    expect(rootOnly.reason).not.toMatch(/permit/);
  });

  it('refuses a hotkey that is not registered, saying what to do', () => {
    const access = axonAccess({ netuid: 13, neurons: [neuron({ hotkey: 'someone-else' })] }, OURS, sn13);
    expect(access).toMatchObject({ uid: null, validatorPermit: false, stakeAlpha: 0, eligible: false });
    expect(access.reason).toMatch(/not registered on SN13.*register it, stake at least 10,000 and hold a validator permit/);
  });

  it('takes the stake threshold from configuration, keeping the rest of the rule', () => {
    expect(parseRequiredStakes(' 13=5000, 22 = 1000.5,')).toEqual({ 13: 5000, 22: 1000.5 });
    expect(() => parseRequiredStakes('13:5000')).toThrow(/"13:5000" must read netuid=stake/);
    expect(() => parseRequiredStakes('70000=1')).toThrow(/netuid=stake/);
    expect(axonAccessRule(13, { 13: 5_000 })).toMatchObject({ permit: true, minStake: 5_000 });
    expect(axonAccessRule(22)).toBe(sn22);
    expect(axonAccessRule(7)).toBe(DEFAULT_AXON_RULE);
  });

  it('counts the alpha still missing against both conditions', () => {
    const access = axonAccess({ netuid: 22, neurons: [neuron({ ...stakes(5, 19_990) })] }, OURS, sn22);
    expect(missingAlphaRao(access, sn22)).toBe(15n * RAO);
    expect(missingAlphaRao({ ...access, stakeAlpha: 20_000, stakeTao: 0 }, sn22)).toBe(0n);
  });
});

describe('taoForAlpha: the TAO that buys a stake, searched on the chain’s own quotes', () => {
  it('finds the least TAO within 0.1% on a curve with fees and slippage, and gives up on a pool that cannot deliver', async () => {
    // A constant-product pool with a 1% fee: 1,000 TAO against 100,000 alpha.
    const [taoIn, alphaIn] = [1_000n * RAO, 100_000n * RAO];
    const quote = async (tao: bigint) => {
      const swapped = tao - tao / 100n;
      return { alphaRao: (alphaIn - (taoIn * alphaIn) / (taoIn + swapped)).toString() };
    };
    const want = 20_000n * RAO;
    const tao = (await taoForAlpha(quote, want, 0.01)) as bigint;
    expect(BigInt((await quote(tao)).alphaRao)).toBeGreaterThanOrEqual(want);
    expect(BigInt((await quote((tao * 998n) / 1000n)).alphaRao)).toBeLessThan(want);
    // Slippage: well above the spot price's 200 TAO.
    expect(Number(tao) / 1e9).toBeGreaterThan(250);

    expect(await taoForAlpha(quote, alphaIn + 1n, 0.01)).toBeUndefined();
    expect(await taoForAlpha(quote, 0n, 0.01)).toBe(0n);
  });
});

/** Our hotkey on a fake finney (spec 424) read through @polkadot/api: stake, value and the swap quote from the chain. */
describe('subnetAccess against FakeSubtensor', () => {
  let fake: FakeSubtensor;
  let reader: ChainReader;
  let state: ChainState;

  beforeAll(async () => {
    state = await generateChainState({ subnets: 2, neuronsPerSubnet: 8, seed: 5 });
    fake = await FakeSubtensor.start({ state, blockTimeMs: 0 });
    reader = await ChainReader.connect(fake.url);
  });

  afterAll(async () => {
    await reader.close();
    await fake.stop();
  });

  const withOurs = (change: Partial<NeuronState>): { metagraphOf: () => Promise<Metagraph>; hotkey: string } => {
    const subnet = state.subnets[1];
    const ours = { ...subnet.neurons[2], ...change };
    fake.upsertSubnet({ ...subnet, neurons: subnet.neurons.map((n) => (n.uid === ours.uid ? ours : n)) });
    return { metagraphOf: () => reader.readMetagraph(1), hotkey: ours.hotkey };
  };

  it('is eligible with a permit and enough stake, valuing our alpha at the chain price', async () => {
    const { metagraphOf, hotkey } = withOurs({ validatorPermit: true, alphaStakeRao: 12_000n * RAO, taoStakeRao: 0n });
    const metagraph = await metagraphOf();
    const access = await subnetAccess(metagraph, hotkey, SUBNET_AXON_RULES[13], quoteAt(reader, 1));
    expect(access).toMatchObject({ uid: 2, validatorPermit: true, stakeAlpha: 12_000, eligible: true, reason: 'ok' });
    expect(access.alphaValueTao).toBeCloseTo(12_000 * metagraph.pool.price, 6);
    expect(access.taoToReach).toBeUndefined();
  });

  it('prices the stake still missing with sim_swap_tao_for_alpha when we lack it', async () => {
    const { metagraphOf, hotkey } = withOurs({ validatorPermit: false, alphaStakeRao: 4_000n * RAO, taoStakeRao: 0n });
    const metagraph = await metagraphOf();
    const access = await subnetAccess(metagraph, hotkey, SUBNET_AXON_RULES[13], quoteAt(reader, 1));
    expect(access).toMatchObject({ uid: 2, validatorPermit: false, stakeAlpha: 4_000, eligible: false });
    expect(access.reason).toMatch(/no validator permit.*stake 4,000 is below the 10,000 required/);
    const tao = BigInt(Math.round((access.taoToReach as number) * 1e9));
    const bought = BigInt((await reader.quoteTaoForAlpha(1, tao)).alphaRao);
    expect(bought).toBeGreaterThanOrEqual(6_000n * RAO - RAO / 1000n);
    // And not much more: 0.2% less TAO no longer buys it.
    expect(BigInt((await reader.quoteTaoForAlpha(1, (tao * 998n) / 1000n)).alphaRao)).toBeLessThan(6_000n * RAO);
  });
});
