import { createServer, connect } from 'node:net';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import type { KeyringPair } from '@polkadot/keyring/types';
import { CODE_GENERATION } from '../adapters/sn62-code-generation';
import { Dendrite } from '../dendrite';
import { signHex, verifyHex } from '../keys';
import { AddressPolicy, httpExchange } from '../net';
import { BITTENSOR_VERSION_INT, synapseBodyHash, TerminalInfo, toBody, toHeaders } from '../synapse';
import { AxonServer, RawReply } from './axon-server';
import { PriorityGate, PriorityTimeoutError } from './priority-gate';

const loopback = new AddressPolicy({ allow: ['loopback'] });
let orchestra: KeyringPair;
let miner: KeyringPair;
let stranger: KeyringPair;
let axon: AxonServer;
let port: number;

const request = { task: 'plot revenue', rows: [{ entity: 'AAPL', value: 1.5 }], feedback: [] };

beforeAll(async () => {
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  orchestra = keyring.addFromUri('//Alice');
  miner = keyring.addFromUri('//Bob');
  stranger = keyring.addFromUri('//Mallory');
  axon = new AxonServer({
    hotkey: miner,
    blacklist: (hotkey) => (hotkey === orchestra.address ? undefined : 'Unrecognized hotkey'),
    routes: [
      {
        definition: CODE_GENERATION,
        handler: async ({ values, signal }) => {
          if (values.task === 'sleep')
            await new Promise((r) => {
              const t = setTimeout(r, 2000);
              signal.addEventListener('abort', () => {
                clearTimeout(t);
                r(undefined);
              });
            });
          if (values.task === 'huge')
            return new RawReply((res) => {
              res.writeHead(200);
              const spew = () => res.write('x'.repeat(65536), () => !res.destroyed && spew());
              spew();
            });
          return { code: `print(${JSON.stringify(values.task)})`, dependencies: [], entrypoint: 'main.py' };
        },
      },
    ],
  });
  port = await axon.listen(0, '127.0.0.1');
});

afterAll(() => axon.close());

const target = () => ({ ip: '127.0.0.1', port, hotkey: miner.address });

/** A hand-built signed request, so tests can tamper with any part of it. */
function signedRequest(nonce: bigint, signer = orchestra, values: Record<string, unknown> = request) {
  const computedBodyHash = synapseBodyHash(CODE_GENERATION, values);
  const dendrite: TerminalInfo = { ip: '0.0.0.0', version: BITTENSOR_VERSION_INT, nonce, uuid: 'test-uuid', hotkey: signer.address };
  dendrite.signature = signHex(signer, `${nonce}.${signer.address}.${miner.address}.test-uuid.${computedBodyHash}`);
  const env = { definition: CODE_GENERATION, timeout: 5, dendrite, axon: { ip: '127.0.0.1', port, hotkey: miner.address }, computedBodyHash, values };
  return { headers: toHeaders(env), body: toBody(env) };
}

async function post(headers: Record<string, string>, body: string, path = '/CodeGeneration') {
  const res = await httpExchange(loopback, { ip: '127.0.0.1', port, path, headers, body, timeoutMs: 3000, maxResponseBytes: 1 << 20 });
  return { status: res.status, message: (JSON.parse(res.body.toString()) as { message?: string }).message, headers: res.headers };
}

const nowNs = () => BigInt(Date.now()) * 1_000_000n;

describe('dendrite → axon over real HTTP', () => {
  it('accepts a request signed by Orchestra and returns the handler fields with SDK headers', async () => {
    const dendrite = new Dendrite({ hotkey: orchestra, addressPolicy: loopback });
    const res = await dendrite.call(target(), CODE_GENERATION, request, { timeoutMs: 3000 });
    expect(res).toMatchObject({ ok: true, statusCode: 200, statusMessage: 'Success' });
    expect(res.values.code).toBe('print("plot revenue")');
    expect(res.values.task).toBe('plot revenue');
    expect(res.processTimeMs).toBeGreaterThanOrEqual(0);
    expect(dendrite.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // The axon signs "{axon.nonce}.{dendrite.hotkey}.{axon.hotkey}.{axon.uuid}" (axon.py preprocess).
    const a = res.axon;
    expect(verifyHex(miner.address, `${a.nonce}.${orchestra.address}.${miner.address}.${a.uuid}`, a.signature)).toBe(true);
    // A second call from the same dendrite has a fresh, larger nonce and passes too.
    expect((await dendrite.call(target(), CODE_GENERATION, request, { timeoutMs: 3000 })).ok).toBe(true);
  });

  it('refuses a tampered body (hash mismatch → 500 as the SDK) and a tampered header hash (401)', async () => {
    const { headers, body } = signedRequest(nowNs());
    const tampered = await post(headers, body.replace('plot revenue', 'rm -rf /'));
    expect(tampered.status).toBe(500);
    expect(tampered.message).toMatch(/^Internal Server Error #[0-9a-f-]{36}$/);
    // The tampered request above passed verification, so its nonce is spent: forge on a fresh one.
    const fresh = signedRequest(nowNs() + 1_000n);
    const forged = signedRequest(nowNs(), orchestra, { ...request, task: 'rm -rf /' });
    const reHashed = await post({ ...fresh.headers, computed_body_hash: forged.headers.computed_body_hash }, forged.body);
    expect(reHashed.status).toBe(401);
    expect(reHashed.message).toMatch(/^Not Verified with error: Signature mismatch with /);
  });

  it('refuses a request signed for another axon', async () => {
    const dendrite = new Dendrite({ hotkey: orchestra, addressPolicy: loopback });
    const res = await dendrite.call({ ...target(), hotkey: stranger.address }, CODE_GENERATION, request, { timeoutMs: 3000 });
    expect(res).toMatchObject({ ok: false, statusCode: 401, fault: 'error_status' });
    expect(res.statusMessage).toMatch(/^Not Verified with error: Signature mismatch/);
  });

  it('sends parallel calls to one axon under distinct uuids, so none arrives behind a newer nonce', async () => {
    // A TCP relay in front of the axon that holds the first connection back: the first call
    // signed arrives last, as on a real network. Under one uuid the axon would refuse it.
    let connections = 0;
    const relay = createServer((inbound) => {
      const delay = connections++ === 0 ? 300 : 0;
      inbound.pause();
      setTimeout(() => {
        const outbound = connect(port, '127.0.0.1', () => inbound.resume());
        inbound.pipe(outbound).pipe(inbound);
        const close = () => (inbound.destroy(), outbound.destroy());
        inbound.on('error', close);
        outbound.on('error', close);
      }, delay);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    try {
      const relayed = { ...target(), port: (relay.address() as AddressInfo).port };
      const dendrite = new Dendrite({ hotkey: orchestra, addressPolicy: loopback });
      const results = await Promise.all(Array.from({ length: 6 }, () => dendrite.call(relayed, CODE_GENERATION, request, { timeoutMs: 5000 })));
      expect(results.filter((r) => !r.ok).map((r) => `${r.statusCode} ${r.statusMessage}`)).toEqual([]);
      // Alone on the axon again, a call goes out under the instance's own uuid, with a newer nonce.
      expect((await dendrite.call(relayed, CODE_GENERATION, request, { timeoutMs: 3000 })).ok).toBe(true);
    } finally {
      relay.close();
    }
  });

  it('refuses a replayed nonce and a stale first nonce', async () => {
    const { headers, body } = signedRequest(nowNs());
    expect((await post(headers, body)).status).toBe(200);
    const replay = await post(headers, body);
    expect(replay).toMatchObject({ status: 401, message: 'Not Verified with error: Nonce is too old, a newer one was last processed' });
    const stale = signedRequest(nowNs() - 20_000_000_000n);
    const old = await post({ ...stale.headers, bt_header_dendrite_uuid: 'fresh-uuid' }, stale.body);
    expect(old.status).toBe(401);
    expect(old.message).toMatch(/^Not Verified with error: Nonce is too old: acceptable delta is 9\.00 seconds but request was 20\.\d\d seconds old$/);
  });

  it('refuses an unregistered caller before verifying (403, SDK message)', async () => {
    const dendrite = new Dendrite({ hotkey: stranger, addressPolicy: loopback });
    const res = await dendrite.call(target(), CODE_GENERATION, request, { timeoutMs: 3000 });
    expect(res).toMatchObject({ ok: false, statusCode: 403, statusMessage: 'Forbidden. Key is blacklisted: Unrecognized hotkey.' });
  });

  it('answers 404 for an unknown synapse and 400 for unparseable headers', async () => {
    const { headers, body } = signedRequest(nowNs());
    expect(await post(headers, body, '/Nope')).toMatchObject({ status: 404, message: "Synapse name 'Nope' not found. Available synapses ['CodeGeneration']" });
    const bad = await post({ ...headers, bt_header_dendrite_nonce: 'abc' }, body);
    expect(bad.status).toBe(400);
    expect(bad.message).toMatch(/^Improperly formatted request/);
    expect(bad.headers['bt_header_axon_status_code']).toBe('400');
  });

  it('reports timeouts (408), refused connections (503), oversized bodies and refused addresses', async () => {
    const dendrite = new Dendrite({ hotkey: orchestra, addressPolicy: loopback, maxResponseBytes: 100_000 });
    const slow = await dendrite.call(target(), CODE_GENERATION, { ...request, task: 'sleep' }, { timeoutMs: 300 });
    expect(slow).toMatchObject({ ok: false, statusCode: 408, statusMessage: 'Timedout after 0.3 seconds.', fault: 'timeout' });
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const down = await dendrite.call({ ...target(), port: closedPort }, CODE_GENERATION, request, { timeoutMs: 1000 });
    expect(down).toMatchObject({ ok: false, statusCode: 503, statusMessage: `Service at 127.0.0.1:${closedPort}/CodeGeneration unavailable.`, fault: 'unreachable' });
    const huge = await dendrite.call(target(), CODE_GENERATION, { ...request, task: 'huge' }, { timeoutMs: 3000 });
    expect(huge).toMatchObject({ ok: false, statusCode: 400, fault: 'too_large' });
    const strict = new Dendrite({ hotkey: orchestra, addressPolicy: new AddressPolicy() });
    for (const ip of ['127.0.0.1', '::1', '10.0.0.1', '169.254.169.254', 'miner.example.com']) {
      const refused = await strict.call({ ...target(), ip }, CODE_GENERATION, request, { timeoutMs: 1000 });
      expect(refused).toMatchObject({ ok: false, statusCode: 503, fault: 'address_refused' });
      expect(refused.statusMessage).toContain(`address ${ip} refused`);
    }
  });

  it('never follows a redirect', async () => {
    let followed = 0;
    const elsewhere = http.createServer((_q, s) => {
      followed++;
      s.end('{}');
    });
    await new Promise<void>((r) => elsewhere.listen(0, '127.0.0.1', r));
    const redirector = http.createServer((_q, s) => {
      s.writeHead(302, { location: `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/CodeGeneration` });
      s.end();
    });
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
    const dendrite = new Dendrite({ hotkey: orchestra, addressPolicy: loopback });
    const res = await dendrite.call({ ...target(), port: (redirector.address() as AddressInfo).port }, CODE_GENERATION, request, { timeoutMs: 1000 });
    expect(res).toMatchObject({ ok: false, statusCode: 302, fault: 'redirect' });
    expect(res.statusMessage).toMatch(/^Redirect to http:\/\/127\.0\.0\.1:\d+\/CodeGeneration refused/);
    expect(followed).toBe(0);
    await Promise.all([new Promise((r) => elsewhere.close(r)), new Promise((r) => redirector.close(r))]);
  });

  it('throws only when the caller aborts', async () => {
    const dendrite = new Dendrite({ hotkey: orchestra, addressPolicy: loopback });
    const aborter = new AbortController();
    setTimeout(() => aborter.abort(), 50);
    await expect(dendrite.call(target(), CODE_GENERATION, { ...request, task: 'sleep' }, { timeoutMs: 3000, signal: aborter.signal })).rejects.toThrow('aborted by the caller');
  });
});

describe('PriorityGate', () => {
  it('admits the highest priority first and times out waiters (the SDK 408 path)', async () => {
    const gate = new PriorityGate(1);
    const order: string[] = [];
    const first = await gate.acquire(0, 1000);
    const low = gate.acquire(1, 1000).then((release) => {
      order.push('low');
      release();
    });
    const high = gate.acquire(5, 1000).then((release) => {
      order.push('high');
      release();
    });
    const late = gate.acquire(0, 10);
    await expect(late).rejects.toBeInstanceOf(PriorityTimeoutError);
    first();
    await Promise.all([low, high]);
    expect(order).toEqual(['high', 'low']);
  });
});
