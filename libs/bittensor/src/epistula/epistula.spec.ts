import { createHash } from 'node:crypto';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import type { KeyringPair } from '@polkadot/keyring/types';
import { verifyHex } from '../keys';
import { ChatStreamAccumulator, chatChunkEvent, epistulaHeaders, EpistulaVerificationError, SSE_DONE, SseFormatError, verifyEpistulaRequest } from './epistula';

let validator: KeyringPair;
let miner: KeyringPair;

beforeAll(async () => {
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  validator = keyring.addFromUri('//Alice');
  miner = keyring.addFromUri('//Bob');
});

const lower = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

describe('epistula headers', () => {
  it('signs the prompting v2 message and the secret interval signatures', () => {
    const body = '{"messages":[]}';
    const h = epistulaHeaders(validator, body, miner.address, 1712345678901, 'u-1');
    expect(h['Epistula-Version']).toBe('2');
    expect(h['Epistula-Timestamp']).toBe('1712345678901');
    // prompting shared/epistula.py: f"{sha256(body).hexdigest()}.{uuid}.{timestamp}.{signed_for}"
    const message = `${createHash('sha256').update(body).digest('hex')}.u-1.1712345678901.${miner.address}`;
    expect(verifyHex(validator.address, message, h['Epistula-Request-Signature'])).toBe(true);
    // ceil(ts/1e4)*1e4 is a Python float: str() prints "1712345680000.0".
    expect(verifyHex(validator.address, `1712345680000.0.${miner.address}`, h['Epistula-Secret-Signature-1'])).toBe(true);
    expect(verifyHex(validator.address, `1712345679999.0.${miner.address}`, h['Epistula-Secret-Signature-0'])).toBe(true);
  });

  it('signs the secret signatures once per interval and recipient, the request signature every time', () => {
    const [a, b] = [epistulaHeaders(validator, '{}', miner.address, 1712345671000, 'u-a'), epistulaHeaders(validator, '{}', miner.address, 1712345679000, 'u-b')];
    expect(b['Epistula-Secret-Signature-1']).toBe(a['Epistula-Secret-Signature-1']);
    expect(b['Epistula-Request-Signature']).not.toBe(a['Epistula-Request-Signature']);
    const toOther = epistulaHeaders(validator, '{}', validator.address, 1712345679000, 'u-c');
    expect(verifyHex(validator.address, `1712345680000.0.${validator.address}`, toOther['Epistula-Secret-Signature-1'])).toBe(true);
    const later = epistulaHeaders(validator, '{}', miner.address, 1712345681000, 'u-d');
    expect(verifyHex(validator.address, `1712345690000.0.${miner.address}`, later['Epistula-Secret-Signature-1'])).toBe(true);
    expect(epistulaHeaders(validator, '{}', miner.address, 1712345672000, 'u-e')['Epistula-Secret-Signature-1']).not.toBe(a['Epistula-Secret-Signature-1']);
  });

  it('verifies on the miner side and refuses like the prompting miner', () => {
    const body = Buffer.from('{"messages":[]}');
    const now = Date.now();
    const headers = lower(epistulaHeaders(validator, body.toString(), miner.address, now));
    expect(verifyEpistulaRequest({ headers, body, ownHotkey: miner.address, now })).toBe(validator.address);
    const refuse = (opts: Partial<Parameters<typeof verifyEpistulaRequest>[0]>) => {
      try {
        verifyEpistulaRequest({ headers, body, ownHotkey: miner.address, now, ...opts });
      } catch (e) {
        return [(e as EpistulaVerificationError).statusCode, (e as Error).message];
      }
      return undefined;
    };
    expect(refuse({ ownHotkey: validator.address })).toEqual([400, 'Bad Request, message is not intended for self']);
    expect(refuse({ refuseSigner: () => 'Signer not in metagraph' })).toEqual([401, 'Signer not in metagraph']);
    expect(refuse({ body: Buffer.from('{"messages":[1]}') })).toEqual([400, 'Signature Mismatch']);
    expect(refuse({ now: now + 8001 })).toEqual([400, 'Request is too stale']);
    expect(refuse({ now: now - 8001 })).toEqual([400, 'Request is too stale']);
    expect(refuse({ headers: { ...headers, 'epistula-request-signature': undefined } as never })).toEqual([400, 'Invalid Signature']);
  });
});

describe('ChatStreamAccumulator', () => {
  it('concatenates deltas across arbitrary chunk boundaries, multi-byte characters included', () => {
    const stream = chatChunkEvent('c1', 'm', 'Hé') + ': keep-alive\n\n' + chatChunkEvent('c1', 'm', 'llo 中') + chatChunkEvent('c1', 'm', '', 'stop') + SSE_DONE;
    const bytes = Buffer.from(stream);
    const acc = new ChatStreamAccumulator();
    for (let i = 0; i < bytes.length; i += 7) acc.push(bytes.subarray(i, i + 7));
    acc.end();
    expect(acc.text).toBe('Héllo 中');
    expect(acc.done).toBe(true);
  });

  it('throws on a data line that is not JSON', () => {
    expect(() => new ChatStreamAccumulator().push(Buffer.from('data: not json\n'))).toThrow(SseFormatError);
  });
});
