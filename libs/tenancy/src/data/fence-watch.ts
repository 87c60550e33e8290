/**
 * Where a tenant's writes wait while its move holds the write fence: one probe per fenced tenant
 * in this process asks whether the fence is free, and every write refused by it (BHM02) waits on
 * that probe instead of running itself again and again. So a write re-runs about once per fence,
 * not every few milliseconds: each re-run is a transaction begun, rolled back and, for a request
 * under an idempotency key, its handler's work done again.
 */
export class FenceWatch {
  private readonly watching = new Map<string, Promise<void>>();

  /**
   * Resolves once `probe` says the fence is free, or it fails (the write then runs again and finds
   * out for itself), or `until` (epoch ms) has passed.
   */
  wait(tenantId: string, probe: () => Promise<boolean>, until: number): Promise<void> {
    let watch = this.watching.get(tenantId);
    if (!watch) {
      watch = (async () => {
        for (let look = 0; Date.now() < until; look++) {
          await new Promise((resolve) => setTimeout(resolve, Math.min(10 * 2 ** look, 40)));
          if (await probe().catch(() => true)) return;
        }
      })().finally(() => this.watching.delete(tenantId));
      this.watching.set(tenantId, watch);
    }
    return watch;
  }
}
