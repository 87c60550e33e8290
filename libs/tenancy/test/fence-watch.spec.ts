import { FenceWatch } from '../src/data/fence-watch';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The writes of one fenced placement wait on one probe, go when it says free, and never past their own deadline. */
describe('fence watch', () => {
  it('has the waiting writes of a placement share one probe, separate from another placement, and go once it says free', async () => {
    const watch = new FenceWatch();
    const probes = { a: 0, b: 0 };
    const free = { a: false, b: false };
    const settled = { a: 0, b: 0 };
    const until = Date.now() + 30_000;
    const waits = [
      ...Array.from({ length: 20 }, () => watch.wait('a', async () => (probes.a++, free.a), until).then(() => settled.a++)),
      ...Array.from({ length: 5 }, () => watch.wait('b', async () => (probes.b++, free.b), until).then(() => settled.b++)),
    ];
    await sleep(300);
    expect(settled).toEqual({ a: 0, b: 0 });
    // 300 ms at one look per 10-40 ms: one prober per placement, not one per write.
    expect(probes.a).toBeGreaterThan(2);
    expect(probes.a).toBeLessThan(40);
    expect(probes.b).toBeGreaterThan(2);
    expect(probes.b).toBeLessThan(40);

    free.a = true;
    await sleep(200);
    expect(settled).toEqual({ a: 20, b: 0 });
    free.b = true;
    await Promise.all(waits);
    expect(settled).toEqual({ a: 20, b: 5 });
  });

  it('lets each write go at its own deadline, and a failing probe does not let anyone go early', async () => {
    const watch = new FenceWatch();
    const started = Date.now();
    const early = watch.wait('a', async () => Promise.reject(new Error('unreachable')), started + 200).then(() => Date.now() - started);
    const late = watch.wait('a', async () => Promise.reject(new Error('unreachable')), started + 600).then(() => Date.now() - started);
    const [earlyAt, lateAt] = await Promise.all([early, late]);
    expect(earlyAt).toBeGreaterThanOrEqual(190);
    expect(earlyAt).toBeLessThan(590);
    expect(lateAt).toBeGreaterThanOrEqual(590);
  });
});
