import { mkdtemp, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HotkeyLoadError, loadHotkey, signHex, verifyHex } from './keys';
import { signatureVerify } from '@polkadot/util-crypto';
import { u8aToHex, u8aWrapBytes } from '@polkadot/util';

// Well-known Substrate dev account and the BIP39 "bottom drive obey lake…" dev phrase
// (@polkadot/keyring testing pairs; substrate `DEV_PHRASE`), whose root sr25519 address is below.
const ALICE = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
const DEV_PHRASE = 'bottom drive obey lake curtain smoke basket hold race lonely fit walk';
const DEV_PHRASE_ROOT = '5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV';

describe('loadHotkey', () => {
  it('loads a dev URI, a mnemonic and a hex seed as sr25519 with SS58 prefix 42', async () => {
    expect((await loadHotkey('//Alice')).address).toBe(ALICE);
    const fromPhrase = await loadHotkey(DEV_PHRASE);
    expect(fromPhrase.address).toBe(DEV_PHRASE_ROOT);
    expect(fromPhrase.type).toBe('sr25519');
    expect((await loadHotkey(`${DEV_PHRASE}//Alice`)).address).toBe(ALICE);
    const seeded = await loadHotkey('0x' + '11'.repeat(32));
    expect(seeded.address).toMatch(/^5/);
  });

  it('loads a Bittensor wallet hotkey file and checks its address', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wallets-'));
    await mkdir(join(dir, 'orchestra', 'hotkeys'), { recursive: true });
    const file = join(dir, 'orchestra', 'hotkeys', 'default');
    await writeFile(file, JSON.stringify({ secretPhrase: DEV_PHRASE, secretSeed: null, ss58Address: DEV_PHRASE_ROOT }));
    expect((await loadHotkey({ wallet: 'orchestra', hotkey: 'default', walletsDir: dir })).address).toBe(DEV_PHRASE_ROOT);
    await writeFile(file, JSON.stringify({ secretPhrase: DEV_PHRASE, ss58Address: ALICE }));
    await expect(loadHotkey({ file })).rejects.toThrow(HotkeyLoadError);
    await writeFile(file, 'gAAAAA-encrypted');
    await expect(loadHotkey({ file })).rejects.toThrow('unencrypted');
  });

  it('rejects secrets that are none of the accepted forms', async () => {
    await expect(loadHotkey('not a mnemonic at all')).rejects.toThrow(HotkeyLoadError);
  });

  it('signs as 0x + 128 hex chars and verifies only the signed message and signer', async () => {
    const alice = await loadHotkey('//Alice');
    const sig = signHex(alice, 'hello');
    expect(sig).toMatch(/^0x[0-9a-f]{128}$/);
    expect(verifyHex(ALICE, 'hello', sig)).toBe(true);
    expect(verifyHex(ALICE, 'hellO', sig)).toBe(false);
    expect(verifyHex(DEV_PHRASE_ROOT, 'hello', sig)).toBe(false);
    expect(verifyHex(ALICE, 'hello', sig.slice(2))).toBe(false); // btwallet requires the 0x prefix
    expect(verifyHex('garbage', 'hello', sig)).toBe(false);
  });

  it("signs in WebAssembly what the keyring's own sr25519 verifies, and verifies the keyring's signatures and their wrapped form", async () => {
    const alice = await loadHotkey('//Alice');
    const fast = signHex(alice, 'hello');
    expect(signatureVerify('hello', fast, ALICE).isValid).toBe(true);
    expect(signHex(alice, 'hello')).not.toBe(fast); // sr25519 signatures are randomized
    expect(verifyHex(ALICE, 'hello', u8aToHex(alice.sign(Buffer.from('hello'))))).toBe(true);
    expect(verifyHex(ALICE, 'hello', u8aToHex(alice.sign(u8aWrapBytes('hello'))))).toBe(true);
    expect(verifyHex(ALICE, 'hello', u8aToHex(alice.sign(Buffer.from('hellO'))))).toBe(false);
  });
});
