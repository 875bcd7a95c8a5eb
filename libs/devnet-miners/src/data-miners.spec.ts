import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import type { KeyringPair } from '@polkadot/keyring/types';
import {
  AddressPolicy,
  ChainReader,
  createSubnetAdapter,
  DataCapability,
  Dendrite,
  GET_CONTENTS_BY_BUCKETS,
  GET_MINER_INDEX,
  MinerReply,
  MinerTarget,
  SCRAPER_STREAMING_SYNAPSE,
  SubnetAdapter,
  TWITTER_SEARCH_SYNAPSE,
} from '@orchestra/bittensor';
import { FakeSubtensor, type ChainState, type NeuronState } from '@orchestra/fake-subtensor';
import { Blacklist, dataUniverseBlacklist, desearchBlacklist, SyncedMetagraph, syncedMetagraph } from './blacklists';
import { BehaviourName } from './behaviours';
import { startSimulatedMiner, SimulatedMiner } from './miner';
import { COLLUDED_TEXT, TOPICS } from './social-content';

/**
 * SN13 and SN22 as their axons really serve them: real simulated miners over HTTP, requests
 * signed by real sr25519 hotkeys, callers judged by the subnets' own blacklists against the
 * metagraph a fake subtensor serves (read with the ChainReader, as a miner syncs its own).
 */

const RAO = 1_000_000_000n;
const loopback = new AddressPolicy({ allow: ['loopback'] });
const running: SimulatedMiner[] = [];
let keys: Record<'orchestra' | 'noPermit' | 'lowStake' | 'stranger', KeyringPair>;
let keyring: Keyring;
let chain: FakeSubtensor;
let reader: ChainReader;
let views: Record<13 | 22, SyncedMetagraph>;
let adapter: SubnetAdapter;
let minerCount = 0;

function neuron(uid: number, hotkey: string, validatorPermit: boolean, alphaTao: bigint): NeuronState {
  return {
    uid,
    hotkey,
    coldkey: hotkey,
    alphaStakeRao: alphaTao * RAO,
    taoStakeRao: 0n,
    emissionRao: 0n,
    incentive: 0,
    consensus: 0,
    dividends: validatorPermit ? 30_000 : 0,
    validatorTrust: 0,
    validatorPermit,
    active: validatorPermit,
    lastUpdate: 1,
    axon: null,
  };
}

function chainState(noPermitHasPermit = false): ChainState {
  const neurons = (): NeuronState[] => [
    neuron(0, keys.orchestra.address, true, 100_000n),
    neuron(1, keys.noPermit.address, noPermitHasPermit, 100_000n),
    neuron(2, keys.lowStake.address, true, 5_000n),
  ];
  const subnet = (netuid: number) => ({ netuid, taoReserveRao: 50_000n * RAO, alphaReserveRao: 1_000_000n * RAO, alphaPriceRao: 50_000_000n, neurons: neurons() });
  return { subnets: [subnet(13), subnet(22)] };
}

beforeAll(async () => {
  await cryptoWaitReady();
  keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  keys = {
    orchestra: keyring.addFromUri('//Alice'),
    noPermit: keyring.addFromUri('//Charlie'),
    lowStake: keyring.addFromUri('//Dave'),
    stranger: keyring.addFromUri('//Mallory'),
  };
  chain = await FakeSubtensor.start({ state: chainState(), blockTimeMs: 0 });
  reader = await ChainReader.connect(chain.url);
  views = { 13: await syncedMetagraph(() => reader.readMetagraph(13)), 22: await syncedMetagraph(() => reader.readMetagraph(22)) };
  adapter = createSubnetAdapter('synapse', { hotkey: keys.orchestra, addressPolicy: loopback, maxResponseBytes: 1 << 20 });
});

afterAll(async () => {
  await Promise.all(running.map((m) => m.stop()));
  views[13].stop();
  views[22].stop();
  await reader.close();
  await chain.stop();
});

/** Each miner its own hotkey (and fresh blacklist counters), so tests do not share budgets. */
async function miner(netuid: 13 | 22, behaviour: BehaviourName = 'good', blacklist?: Blacklist): Promise<MinerTarget & { seen: string[] }> {
  const seen: string[] = [];
  const rules = blacklist ?? (netuid === 13 ? dataUniverseBlacklist({ metagraph: views[13].view }) : desearchBlacklist({ metagraph: views[22].view }));
  const m = await startSimulatedMiner({
    netuid,
    uid: ++minerCount,
    hotkey: keyring.addFromUri(`//Orchestra/test/data/${minerCount}`),
    behaviour,
    blacklist: (hotkey, synapse, ip) => {
      seen.push(synapse ?? '');
      return rules(hotkey, synapse, ip);
    },
  });
  running.push(m);
  return { netuid, uid: m.uid, hotkey: m.hotkey, ip: m.host, port: m.port, seen };
}

const hire = (target: MinerTarget, capability: DataCapability, input: unknown, timeoutMs = 5_000): Promise<MinerReply> => adapter.hire(target, { capability, input, timeoutMs });
const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
const parsed = (reply: MinerReply) => JSON.parse(reply.raw as string) as Record<string, Array<Record<string, string>>>;

describe('SN13 data-universe: data.social from GetMinerIndex + GetContentsByBuckets', () => {
  it('answers the posts of the buckets labelled after the keywords, normalized and filtered to the query', async () => {
    const target = await miner(13);
    const reply = await hire(target, 'data.social', { keywords: ['NVDA', 'earnings'], since: day(-1), limit: 50 });
    expect(reply).toMatchObject({ ok: true, statusCode: 200 });
    const { posts } = parsed(reply);
    expect(posts.length).toBeGreaterThan(0);
    for (const post of posts) {
      expect(Object.keys(post).sort()).toEqual(['author', 'date', 'source', 'text', 'url']);
      expect(['x', 'reddit']).toContain(post.source);
      expect(post.text.toLowerCase()).toContain('nvda');
      expect(post.text.toLowerCase()).toContain('earnings');
      expect(Date.parse(post.date)).toBeGreaterThanOrEqual(Date.parse(`${day(-1)}T00:00:00Z`));
      expect(post.url).toMatch(post.source === 'x' ? /^https:\/\/x\.com\// : /^https:\/\/www\.reddit\.com\/r\/nvda\//);
    }
    expect(new Set(posts.map((p) => p.source))).toEqual(new Set(['x', 'reddit']));
    expect(target.seen).toEqual([GET_MINER_INDEX.name, GET_CONTENTS_BY_BUCKETS.name]);

    // A named platform, and the index reused: the second hire sends only GetContentsByBuckets.
    const reddit = parsed(await hire(target, 'data.social', { keywords: ['tsla'], source: 'reddit', limit: 5 })).posts;
    expect(reddit).toHaveLength(5);
    expect(reddit.every((p) => p.source === 'reddit' && /tesla/i.test(p.text))).toBe(true);
    expect(target.seen).toEqual([GET_MINER_INDEX.name, GET_CONTENTS_BY_BUCKETS.name, GET_CONTENTS_BY_BUCKETS.name]);

    // No bucket could hold it (Reddit files every post under a subreddit): an empty answer, and no contents call spent.
    expect(parsed(await hire(target, 'data.social', { keywords: ['zzyzx'], source: 'reddit' })).posts).toEqual([]);
    expect(target.seen).toHaveLength(3);
    // On X, unlabelled buckets may still hold it: they are read, and what does not match is left out.
    expect(parsed(await hire(target, 'data.social', { keywords: ['zzyzx'] })).posts).toEqual([]);
    expect(target.seen).toHaveLength(4);
  });

  it('keeps within 5 GetContentsByBuckets an hour per miner: the 6th is not sent (429 rate_limited)', async () => {
    const target = await miner(13);
    const input = { keywords: [TOPICS[0].ticker] };
    for (let i = 0; i < 5; i++) expect((await hire(target, 'data.social', input)).ok).toBe(true);
    const sixth = await hire(target, 'data.social', input);
    expect(sixth).toMatchObject({ ok: false, statusCode: 429, fault: 'rate_limited' });
    expect(sixth.statusMessage).toContain('GetContentsByBuckets not sent: the subnet allows 5 per 60 minute(s)');
    expect(target.seen.filter((s) => s === GET_CONTENTS_BY_BUCKETS.name)).toHaveLength(5);
  });
});

describe('SN22 Desearch: data.social over TwitterSearchSynapse, web.search over ScraperStreamingSynapse', () => {
  it('answers tweets holding the query terms by the authors asked, within the window', async () => {
    const target = await miner(22);
    const reply = await hire(target, 'data.social', { keywords: ['bittensor', 'subnet'], usernames: ['@opentensor'], since: day(-2), until: day(0), limit: 7 });
    expect(reply).toMatchObject({ ok: true, statusCode: 200 });
    const { posts } = parsed(reply);
    expect(posts).toHaveLength(7);
    for (const post of posts) {
      expect(post).toMatchObject({ source: 'x', author: 'opentensor' });
      expect(post.text).toContain('bittensor subnet');
      expect(post.url).toMatch(/^https:\/\/x\.com\/opentensor\/status\/\d+$/);
      expect(Date.parse(post.date)).toBeGreaterThanOrEqual(Date.parse(`${day(-2)}T00:00:00Z`));
    }
    expect(target.seen).toEqual([TWITTER_SEARCH_SYNAPSE.name]);
  });

  it('answers web results from the streamed search event', async () => {
    const target = await miner(22);
    const reply = await hire(target, 'web.search', { query: 'nvidia data center revenue', count: 12 });
    expect(reply).toMatchObject({ ok: true, statusCode: 200 });
    const { results } = parsed(reply);
    expect(results).toHaveLength(12);
    for (const r of results) {
      expect(Object.keys(r).sort()).toEqual(['date', 'snippet', 'title', 'url']);
      expect(r.url).toMatch(/^https:\/\/[a-z]+\.example\/nvidia-data-center-revenue\/\d+$/);
      expect(r.title).toContain('nvidia data center revenue');
    }
    expect(target.seen).toEqual([SCRAPER_STREAMING_SYNAPSE.name]);
  });
});

describe('the subnets blacklist callers as their miners do, judged by the chain', () => {
  const dendrite = (key: KeyringPair) => new Dendrite({ hotkey: key, addressPolicy: loopback });
  const refusal = (reason: string) => `Forbidden. Key is blacklisted: ${reason}.`;

  it('SN13 refuses an unregistered caller, one without a validator permit and one below 10,000 stake (403)', async () => {
    const target = await miner(13);
    const ask = (key: KeyringPair) => dendrite(key).call(target, GET_MINER_INDEX, { version: 4 }, { timeoutMs: 5_000 });
    expect(await ask(keys.stranger)).toMatchObject({ ok: false, statusCode: 403, statusMessage: refusal(`Unrecognized hotkey ${keys.stranger.address} at 127.0.0.1`) });
    expect(await ask(keys.noPermit)).toMatchObject({ ok: false, statusCode: 403, statusMessage: refusal(`Hotkey ${keys.noPermit.address} at 127.0.0.1 is not a validator`) });
    expect(await ask(keys.lowStake)).toMatchObject({ ok: false, statusCode: 403, statusMessage: refusal(`Hotkey ${keys.lowStake.address} at 127.0.0.1 is not a validator`) });
    expect((await ask(keys.orchestra)).ok).toBe(true);
  });

  it('SN13 refuses a validator past twice its hourly limit (GetMinerIndex: 1 an hour, 2 allowed)', async () => {
    const target = await miner(13);
    const caller = dendrite(keys.orchestra);
    const ask = () => caller.call(target, GET_MINER_INDEX, { version: 4 }, { timeoutMs: 5_000 });
    expect((await ask()).ok).toBe(true);
    expect((await ask()).ok).toBe(true);
    expect(await ask()).toMatchObject({
      ok: false,
      statusCode: 403,
      statusMessage: refusal(`Hotkey ${keys.orchestra.address} at 127.0.0.1 over eval period request limit for GetMinerIndex.`),
    });
  });

  it('SN13 admits a caller once the chain gives it a permit (the miner re-syncs its metagraph)', async () => {
    const target = await miner(13);
    const ask = () => dendrite(keys.noPermit).call(target, GET_MINER_INDEX, { version: 4 }, { timeoutMs: 5_000 });
    expect((await ask()).statusCode).toBe(403);
    chain.setState(chainState(true));
    await views[13].refresh();
    try {
      expect((await ask()).ok).toBe(true);
    } finally {
      chain.setState(chainState());
      await views[13].refresh();
    }
  });

  it('SN22 refuses an unregistered caller and one below 20 alpha / 20,000 total stake, and a caller past its rate', async () => {
    const target = await miner(22);
    const ask = (key: KeyringPair) => dendrite(key).call(target, TWITTER_SEARCH_SYNAPSE, { query: 'tao' }, { timeoutMs: 5_000 });
    expect(await ask(keys.stranger)).toMatchObject({
      statusCode: 403,
      statusMessage: refusal(`Blacklisted a non registered hotkey's TwitterSearchSynapse request from ${keys.stranger.address}`),
    });
    expect(await ask(keys.lowStake)).toMatchObject({
      statusCode: 403,
      statusMessage: refusal(`Blacklisted a low stake TwitterSearchSynapse request: alpha_stake=5000.0 < 20 or total_stake=5000.0 < 20000 from ${keys.lowStake.address}`),
    });
    expect((await ask(keys.orchestra)).ok).toBe(true);

    const limited = await miner(22, 'good', desearchBlacklist({ metagraph: views[22].view, rateLimit: { maxRequests: 2, windowMs: 60_000 } }));
    const caller = dendrite(keys.orchestra);
    const search = () => caller.call(limited, TWITTER_SEARCH_SYNAPSE, { query: 'tao' }, { timeoutMs: 5_000 });
    expect((await search()).ok).toBe(true);
    expect((await search()).ok).toBe(true);
    expect(await search()).toMatchObject({
      statusCode: 403,
      statusMessage: refusal(`Request frequency for ${keys.orchestra.address} exceeded: 2 requests in 1 minute(s). Limit is 2 requests.`),
    });
  });
});

describe('a miner that answers badly is that miner’s failed reply, never a throw', () => {
  const cases: Array<[13 | 22, DataCapability, unknown]> = [
    [13, 'data.social', { keywords: ['NVDA'] }],
    [22, 'data.social', { keywords: ['NVDA'] }],
    [22, 'web.search', { query: 'nvidia' }],
  ];
  describe.each(cases)('SN%s %s', (netuid, capability, input) => {
    it.each<[BehaviourName, number, string]>([
      ['wrong-schema', 422, 'bad_response'],
      ['garbage', 422, 'bad_response'],
      ['deep-json', 422, 'bad_response'],
      ['invalid-utf8', 422, 'bad_response'],
      ['huge-error', 500, 'error_status'],
      ['huge', 400, 'too_large'],
      ['trickle', 408, 'timeout'],
      ['redirect', 302, 'redirect'],
    ])('%s → %s %s', async (behaviour, statusCode, fault) => {
      const reply = await hire(await miner(netuid, behaviour), capability, input, 1_000);
      expect(reply).toMatchObject({ ok: false, statusCode, fault });
      expect(reply.statusMessage.length).toBeLessThanOrEqual(2_100);
    });
  });

  it('colluding miners answer well-formed posts with the same invented words (only comparing answers catches them)', async () => {
    const reply = await hire(await miner(13, 'colluding'), 'data.social', { keywords: ['insiders'] });
    const { posts } = parsed(reply);
    expect(posts.length).toBeGreaterThan(0);
    expect(posts.every((p) => p.text === COLLUDED_TEXT || p.text.endsWith(`\n\n${COLLUDED_TEXT}`))).toBe(true);
  });
});

describe('the blacklists, over time', () => {
  const validator = { hotkey: 'v', validatorPermit: true, alphaStakeRao: `${20_000n * RAO}`, totalStakeRao: `${20_000n * RAO}` };

  it('SN13 clears every counter once an evaluation period has passed', () => {
    let t = 0;
    const blacklist = dataUniverseBlacklist({ metagraph: () => [validator], now: () => t });
    const contents = () => blacklist('v', GET_CONTENTS_BY_BUCKETS.name, '10.0.0.1');
    for (let i = 0; i < 10; i++) expect(contents()).toBeUndefined();
    expect(contents()).toBe('Hotkey v at 10.0.0.1 over eval period request limit for GetContentsByBuckets.');
    t = 3_600_000;
    expect(contents()).toBeUndefined();
    // The legacy OnDemandRequest is not counted; unregistered callers are refused before any count.
    for (let i = 0; i < 50; i++) expect(blacklist('v', 'OnDemandRequest', '10.0.0.1')).toBeUndefined();
    expect(blacklist('w', GET_MINER_INDEX.name, '10.0.0.1')).toBe('Unrecognized hotkey w at 10.0.0.1');
  });

  it('SN22 counts a sliding minute, and not the requests it refused', () => {
    let t = 0;
    const blacklist = desearchBlacklist({ metagraph: () => [validator], rateLimit: { maxRequests: 2, windowMs: 60_000 }, now: () => t });
    expect(blacklist('v', 'TwitterSearchSynapse')).toBeUndefined();
    t = 30_000;
    expect(blacklist('v', 'TwitterSearchSynapse')).toBeUndefined();
    expect(blacklist('v', 'TwitterSearchSynapse')).toMatch(/exceeded: 2 requests/);
    t = 60_001;
    expect(blacklist('v', 'TwitterSearchSynapse')).toBeUndefined();
    expect(blacklist('v', 'TwitterSearchSynapse')).toMatch(/exceeded: 2 requests/);
    expect(desearchBlacklist({ metagraph: () => [{ ...validator, alphaStakeRao: '0' }], checkStake: false })('v', 'TwitterSearchSynapse')).toBeUndefined();
  });
});
