import { BEHAVIOURS, DEFAULT_SHARE, HOSTILE_BEHAVIOURS, parseShare, withShareDefaults } from '@orchestra/devnet-miners';
import { ServiceConfigError } from '@orchestra/service';
import { devnetSettings } from './config';
import { DevnetConfig, DevnetConfigSchema, FAULTY_BEHAVIOURS, loadDevnetConfig, withFaultyShare, withHostileShare } from './devnet-config';

const subnet = (miners: string[]) => ({ netuid: 13, name: 'data', taoReserve: 1, alphaReserve: 1, miners });

describe('devnet config', () => {
  it('loads the shipped config; every behaviour but good is faulty or hostile (huge is both)', () => {
    expect(loadDevnetConfig('apps/devnet/devnet.config.json').subnets.map((s) => s.netuid)).toEqual([1, 13, 22, 62]);
    expect(new Set([...FAULTY_BEHAVIOURS, ...HOSTILE_BEHAVIOURS])).toEqual(new Set(Object.keys(BEHAVIOURS).filter((b) => b !== 'good')));
    expect(FAULTY_BEHAVIOURS.filter((b) => HOSTILE_BEHAVIOURS.includes(b))).toEqual(['huge']);
    expect(FAULTY_BEHAVIOURS).toEqual(expect.arrayContaining(['intermittent', 'slow-tail', 'replay', 'colluding']));
  });

  it('refuses a lone colluder, accepts a pair', () => {
    const parse = (miners: string[]) => DevnetConfigSchema.safeParse({ subnets: [subnet(miners)] });
    expect(parse(['good', 'colluding']).error?.issues[0]).toMatchObject({ path: ['subnets', 0, 'miners'], message: expect.stringMatching(/needs a partner/) });
    expect(parse(['good', 'colluding', 'colluding']).success).toBe(true);
  });

  it('--faulty draws from every faulty behaviour and never leaves a colluder alone', () => {
    const config: DevnetConfig = DevnetConfigSchema.parse({ subnets: [subnet(Array.from({ length: 8 }, () => 'good'))] });
    const drawn = new Set<string>();
    for (let seed = 1; seed <= 40; seed++) {
      for (const share of [1 / 8, 0.5, 1]) {
        const { miners } = withFaultyShare(config, share, seed).subnets[0];
        miners.forEach((b) => drawn.add(b));
        expect(miners.filter((b) => b !== 'good')).toHaveLength(Math.round(8 * share));
        expect(miners.filter((b) => b === 'colluding')).not.toHaveLength(1);
      }
    }
    expect([...drawn].sort()).toEqual([...FAULTY_BEHAVIOURS, 'good'].sort());
  });
});

describe('--hostile', () => {
  const config: DevnetConfig = DevnetConfigSchema.parse({ subnets: [subnet(Array.from({ length: 10 }, () => 'good'))] });

  it('makes that share hostile, drawn from every hostile behaviour, the same for the same seed', () => {
    const drawn = new Set<string>();
    for (let seed = 1; seed <= 40; seed++) {
      const { miners } = withHostileShare(config, 0.3, seed).subnets[0];
      expect(miners.filter((b) => HOSTILE_BEHAVIOURS.includes(b))).toHaveLength(3);
      expect(miners.filter((b) => b === 'good')).toHaveLength(7);
      expect(withHostileShare(config, 0.3, seed)).toEqual(withHostileShare(config, 0.3, seed));
      miners.forEach((b) => drawn.add(b));
    }
    expect([...drawn].sort()).toEqual([...HOSTILE_BEHAVIOURS, 'good'].sort());
  });

  it('composes with --faulty: the miners it does not draw keep their behaviour, and no colluder is left alone', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const faulty = withFaultyShare(config, 0.5, seed);
      const both = withHostileShare(faulty, 0.3, seed).subnets[0].miners;
      const changed = both.filter((b, i) => b !== faulty.subnets[0].miners[i] && b !== 'colluding' && b !== 'replay');
      expect(changed.every((b) => HOSTILE_BEHAVIOURS.includes(b))).toBe(true);
      expect(both.filter((b) => b === 'colluding')).not.toHaveLength(1);
    }
  });

  it('takes a bare switch as 0.3 and refuses a share outside 0..1, naming it', () => {
    expect(DEFAULT_SHARE).toBe(0.3);
    expect(withShareDefaults(['--hostile'])).toEqual(['--hostile', '0.3']);
    expect(withShareDefaults(['--hostile', '--seed', '4'])).toEqual(['--hostile', '0.3', '--seed', '4']);
    expect(withShareDefaults(['--faulty', '0.5', '--hostile', '0.1'])).toEqual(['--faulty', '0.5', '--hostile', '0.1']);
    expect(parseShare('--hostile', '0.25')).toBe(0.25);
    expect(() => parseShare('ORCH_DEVNET_HOSTILE', 'lots')).toThrow('ORCH_DEVNET_HOSTILE takes a share of miners between 0 and 1 (e.g. 0.3), got "lots"');
    expect(() => parseShare('--hostile', '1.5')).toThrow(RangeError);
  });
});

describe('devnet settings (switches over the environment)', () => {
  it('defaults to seed 1 and port 9944, a switch winning over its variable', () => {
    expect(devnetSettings({})).toEqual({ seed: 1, faulty: undefined, hostile: undefined, chainPort: 9944, gatewayOnly: false });
    expect(devnetSettings({ ORCH_DEVNET_GATEWAY_ONLY: 'true' }).gatewayOnly).toBe(true);
    expect(devnetSettings({ ORCH_DEVNET_GATEWAY_ONLY: '1' }, { 'gateway-only': false }).gatewayOnly).toBe(false);
    expect(() => devnetSettings({ ORCH_DEVNET_GATEWAY_ONLY: 'yes' })).toThrow('ORCH_DEVNET_GATEWAY_ONLY must be 1, true, 0 or false; got "yes"');
    expect(devnetSettings({ ORCH_DEVNET_SEED: '7', ORCH_DEVNET_FAULTY: '0.5', ORCH_SUBTENSOR_PORT: '0' }, { seed: '9', hostile: '0.3' })).toEqual({
      seed: 9,
      faulty: 0.5,
      hostile: 0.3,
      chainPort: 0,
      gatewayOnly: false,
    });
  });

  it('names every bad one, by switch or variable, where a typo used to become NaN', () => {
    const attempt = () => devnetSettings({ ORCH_DEVNET_SEED: 'seven', ORCH_SUBTENSOR_PORT: '99999', ORCH_DEVNET_HOSTILE: 'lots' }, { faulty: '2' });
    expect(attempt).toThrow(ServiceConfigError);
    expect(attempt).toThrow(
      'invalid devnet settings: ORCH_DEVNET_SEED must be an integer from 0 to 4294967295; got "seven"; --faulty takes a share of miners between 0 and 1 (e.g. 0.3), got "2"; ORCH_DEVNET_HOSTILE takes a share of miners between 0 and 1 (e.g. 0.3), got "lots"; ORCH_SUBTENSOR_PORT must be an integer from 0 to 65535; got "99999"',
    );
  });
});
