/**
 * Where a tenant's writes wait while its move holds the write fence: one probe per fenced
 * placement in this process asks whether the fence is free, and every write refused by it (BHM02)
 * waits on that probe instead of running itself again and again. So a write re-runs about once
 * per fence, not every few milliseconds: each re-run is a transaction begun, rolled back and, for
 * a request under an idempotency key, its handler's work done again.
 */
export class FenceWatch {
  private readonly watching = new Map<string, { done: Promise<void>; until: number }>();

  /**
   * Resolves once `probe` says the fence is free, or at this waiter's own `until` (epoch ms),
   * whichever comes first. A probe that fails counts as fenced still: the waiter's deadline bounds
   * it, and writes do not all rush back at a database that did not answer.
   */
  async wait(key: string, probe: () => Promise<boolean>, until: number): Promise<void> {
    let watch = this.watching.get(key);
    if (watch) {
      watch.until = Math.max(watch.until, until);
    } else {
      const started: { done: Promise<void>; until: number } = { done: Promise.resolve(), until };
      started.done = (async () => {
        for (let look = 0; Date.now() < started.until; look++) {
          await new Promise((resolve) => setTimeout(resolve, Math.min(10 * 2 ** look, 40)));
          if (await probe().catch(() => false)) return;
        }
      })().finally(() => this.watching.delete(key));
      this.watching.set(key, started);
      watch = started;
    }
    let timer: NodeJS.Timeout | undefined;
    const own = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, until - Date.now()))));
    try {
      await Promise.race([watch.done, own]);
    } finally {
      clearTimeout(timer);
    }
  }
}
