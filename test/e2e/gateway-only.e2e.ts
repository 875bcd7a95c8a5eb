import { Buckets, MetagraphSchema, metagraphKey } from '@orchestra/contracts';
import { DevnetStack, startDevnetStack } from '@orchestra/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { operatorBus } from './helpers';

/**
 * The devnet run `--gateway-only`: //Alice is registered unstaked and without a permit, and the
 * running metagraph-sync process says so — in each subnet's record for the dispatcher, and in its
 * /readyz detail for operators — while staying ready (gateways need no axon access).
 */
describe('devnet --gateway-only (separate processes)', () => {
  let stack: DevnetStack;

  beforeAll(async () => {
    stack = await startDevnetStack({ ports: 'auto', logDir: mkdtempSync(join(tmpdir(), 'orchestra-e2e-')), gatewayOnly: true, serviceEnv: { ORCH_NETUIDS: '13' } });
  }, 120_000);

  afterAll(() => stack?.stop(), 60_000);

  it('reports SN13 axon access off, with the reason and the TAO that would reach it', async () => {
    const readyz = (await (await fetch(`http://127.0.0.1:${stack.opsPorts['metagraph-sync']}/readyz`)).json()) as { status: string; checks: Record<string, string> };
    expect(readyz.checks.chain).toBe('synced');
    expect(readyz.checks['axon SN13']).toMatch(/^off: SN13 axons would refuse us: UID 0 holds no validator permit.*stake 0 is below the 10,000 required/);

    const bus = await operatorBus(stack, 'gateway-only-e2e');
    try {
      const entry = await (await bus.kv(Buckets.metagraph)).get(metagraphKey(13));
      const access = MetagraphSchema.parse(entry?.json()).access;
      expect(access).toMatchObject({ uid: 0, validatorPermit: false, stakeAlpha: 0, requiredStake: 10_000, eligible: false });
      expect(access?.taoToReach).toBeGreaterThan(0);
    } finally {
      await bus.close();
    }
  });
});
