import { BEHAVIOURS } from '@orchestra/devnet-miners';
import { DevnetConfig, DevnetConfigSchema, FAULTY_BEHAVIOURS, loadDevnetConfig, withFaultyShare } from './devnet-config';

const subnet = (miners: string[]) => ({ netuid: 13, name: 'data', taoReserve: 1, alphaReserve: 1, miners });

describe('devnet config', () => {
  it('loads the shipped config, and every behaviour but good is a faulty one', () => {
    expect(loadDevnetConfig('apps/devnet/devnet.config.json').subnets).toHaveLength(3);
    expect(FAULTY_BEHAVIOURS).toEqual(Object.keys(BEHAVIOURS).filter((b) => b !== 'good'));
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
