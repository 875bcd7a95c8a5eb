/**
 * A small seeded PRNG (mulberry32, public domain) returning floats in [0, 1): the same seed
 * gives the same sequence, so generated chains, faulty devnets and chaos runs repeat exactly
 * (Math.random cannot be seeded).
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
