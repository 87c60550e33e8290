import { FenceWatch } from '../src/data/fence-watch';

/** The writes of one fenced tenant wait on one probe, and nothing waits past its deadline. */
describe('fence watch', () => {
  it('has every waiting write of a tenant share one probe, and lets them go when it says free', async () => {
    const watch = new FenceWatch();
    let probes = 0;
    let free = false;
    const probe = async () => {
      probes++;
      return free;
    };
    const until = Date.now() + 10_000;
    const waits = Array.from({ length: 20 }, () => watch.wait('t1', probe, until));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const whileFenced = probes;
    expect(whileFenced).toBeGreaterThan(0);
    // 200 ms at one look per 10-40 ms: one prober, not twenty.
    expect(whileFenced).toBeLessThan(20);
    free = true;
    await Promise.all(waits);
    // Another tenant's writes have their own probe.
    let other = 0;
    await watch.wait('t2', async () => ++other > 1, until);
    expect(other).toBe(2);
  });

  it('lets the writes go at the deadline, or when the probe fails (they then find out for themselves)', async () => {
    const watch = new FenceWatch();
    const started = Date.now();
    await watch.wait('t1', async () => false, Date.now() + 150);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    await expect(watch.wait('t1', async () => Promise.reject(new Error('unreachable')), Date.now() + 10_000)).resolves.toBeUndefined();
  });
});
