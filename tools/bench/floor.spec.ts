import { measureFloor } from './floor';

// A smoke test of the bench's floor case (the bench itself runs on demand: npm run bench).
describe('bench floor case', () => {
  it('runs reference chains through a real nats-server: 3 hops and a KV compare-and-set each', async () => {
    const floor = await measureFloor({ serial: 5, parallel: 32 });
    expect(floor.serial.n).toBe(5);
    expect(floor.parallel.n).toBe(32);
    expect(floor.chainsPerSecond).toBeGreaterThan(0);
    expect(floor.parallel.p99).toBeGreaterThanOrEqual(floor.parallel.p50);
  });
});
