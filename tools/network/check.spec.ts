import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { loadHotkey } from '@orchestra/bittensor';
import { devnetProviderKey, startProviderTwins, type ProviderTwins } from '@orchestra/devnet-providers';
import { FakeSubtensor, generateChainState, type NeuronState, type SubnetState } from '@orchestra/fake-subtensor';
import { checkNetwork, formatReport } from './check';

const ROOT = resolve(__dirname, '..', '..');
const RAO = 1_000_000_000n;

/**
 * `npm run network:check` against a devnet: a fake finney (spec 424) node where //Alice is
 * registered on SN13 and SN22, and the gateways' twins on loopback with good and bad keys.
 */
describe('network check against the devnet', () => {
  let fake: FakeSubtensor;
  let twins: ProviderTwins;
  let alice: string;

  beforeAll(async () => {
    alice = (await loadHotkey('//Alice')).address;
    const generated = await generateChainState({ subnets: 3, neuronsPerSubnet: 12, seed: 11 });
    fake = await FakeSubtensor.start({ state: generated, blockTimeMs: 0 });
    twins = await startProviderTwins();
  });

  afterAll(async () => {
    await twins.stop();
    await fake.stop();
  });

  /** SN13 and SN22 with //Alice as UID 1: staked as a validator, or unstaked (the devnet's --gateway-only). */
  function aliceStaked(staked: boolean): void {
    const alicesNeuron = (n: NeuronState): NeuronState =>
      staked
        ? { ...n, hotkey: alice, coldkey: alice, validatorPermit: true, alphaStakeRao: 100_000n * RAO, taoStakeRao: 10_000n * RAO }
        : { ...n, hotkey: alice, coldkey: alice, validatorPermit: false, alphaStakeRao: 0n, taoStakeRao: 0n };
    const [a, b] = fake.state.subnets.slice(1, 3);
    const place = (subnet: SubnetState, netuid: number): SubnetState => ({ ...subnet, netuid, neurons: subnet.neurons.map((n) => (n.uid === 1 ? alicesNeuron(n) : n)) });
    fake.upsertSubnet(place(a, 13));
    fake.upsertSubnet(place(b, 22));
  }

  const env = (overrides: Record<string, string> = {}) => ({ ...twins.env(), ORCH_SUBTENSOR_URL: fake.url, ORCH_NETUIDS: '13,22', ORCH_HOTKEY: '//Alice', ...overrides });

  it('reports the chain, our access and stake per subnet, and every gateway key working, with the models listed', async () => {
    aliceStaked(true);
    const report = await checkNetwork(env());
    expect(report.problems).toEqual([]);
    expect(report.chain).toMatchObject({ url: fake.url, ok: true, specName: 'node-subtensor', specVersion: 424, block: fake.blockNumber });
    expect(report.hotkey).toEqual({ address: alice });
    expect(report.subnets.map((s) => [s.netuid, s.access?.uid, s.access?.eligible])).toEqual([
      [13, 1, true],
      [22, 1, true],
    ]);
    expect(report.subnets[0].access?.alphaValueTao).toBeCloseTo(100_000 * (report.subnets[0].price ?? 0), 6);
    expect(report.gateways.map((g) => [g.provider, g.status])).toEqual([
      ['chutes', 'ok'],
      ['desearch', 'ok'],
      ['constellation', 'ok'],
    ]);
    expect(report.gateways[0].sources?.length).toBeGreaterThan(0);
    expect(report.usable).toEqual({ axonSubnets: [13, 22], gateways: ['chutes', 'desearch', 'constellation'] });
    expect(report.ok).toBe(true);
    const text = formatReport(report);
    expect(text).toContain(`reachable, node-subtensor spec 424, finalized block ${fake.blockNumber}`);
    expect(text).toMatch(/SN13 .* usable/);
    expect(text).toContain('usable: SN13 axons, SN22 axons, chutes, desearch, constellation');
  });

  it('reports a bad key as invalid and, gateway-only, why the axons are off and what reaching them would cost', async () => {
    aliceStaked(false);
    const report = await checkNetwork(env({ ORCH_DESEARCH_API_KEY: 'not-a-desearch-key', ORCH_CONSTELLATION_API_KEY: devnetProviderKey('constellation', 'down') }));
    const gateway = (id: string) => report.gateways.find((g) => g.provider === id);
    expect(gateway('desearch')).toMatchObject({ status: 'invalid_key', detail: expect.stringMatching(/^the API key was refused/) });
    expect(gateway('constellation')?.status).toBe('unreachable');
    const sn13 = report.subnets[0].access;
    expect(sn13).toMatchObject({ uid: 1, eligible: false });
    expect(sn13?.reason).toMatch(/no validator permit.*below the 10,000 required/);
    expect(sn13?.taoToReach).toBeGreaterThan(0);
    expect(report.usable).toEqual({ axonSubnets: [], gateways: ['chutes'] });
    expect(report.ok).toBe(true);
    expect(formatReport(report)).toMatch(/desearch\s+SN22\s+invalid_key\s+the API key was refused/);
  });

  it('says nothing is usable, and the command exits 1 (--json) or 2 on bad settings', async () => {
    aliceStaked(false);
    const nothing = env({ ORCH_CHUTES_API_KEY: 'wrong', ORCH_DESEARCH_API_KEY: 'wrong', ORCH_CONSTELLATION_API_KEY: 'wrong' });
    const report = await checkNetwork(nothing);
    expect(report.gateways.map((g) => g.status)).toEqual(['invalid_key', 'invalid_key', 'invalid_key']);
    expect(report.ok).toBe(false);
    expect(formatReport(report)).toContain('NOTHING USABLE: no subnet axon would answer our hotkey; no gateway key works');

    const run = (args: string[], extra: Record<string, string>) =>
      new Promise<{ code: number | null; stdout: string }>((done) => {
        const child = execFile(
          process.execPath,
          ['-r', '@swc-node/register', join(ROOT, 'tools', 'network', 'main.ts'), ...args],
          { cwd: ROOT, env: { PATH: process.env.PATH, ...extra }, timeout: 90_000 },
          (_e, stdout) => done({ code: child.exitCode, stdout }),
        );
      });
    const cli = await run(['check', '--json'], nothing);
    expect(cli.code).toBe(1);
    expect(JSON.parse(cli.stdout)).toMatchObject({ ok: false, usable: { axonSubnets: [], gateways: [] }, chain: { ok: true, specVersion: 424 } });
    const subnets = await run(['subnets'], nothing);
    expect(subnets.code).toBe(0);
    expect(subnets.stdout).toMatch(new RegExp(`^${fake.url} at block \\d+, hotkey ${alice}\\n.*\\n  SN13 .* off: SN13 axons would refuse us`));
    const bad = await run(['check'], { ORCH_NETWORK: 'mainnet', ORCH_AXON_REQUIRED_STAKE: '13:1' });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toMatch(/configuration problems[\s\S]*ORCH_NETWORK must be one of finney, devnet[\s\S]*ORCH_AXON_REQUIRED_STAKE/);
  }, 120_000);
});
