import { TenantRegistry } from '@bulkhead/control-plane';
import { FairQueue } from '@bulkhead/fair-queue';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { FAIR_QUEUE, PLATFORM_KEY, SUSPENDED_RECHECK_MS } from './jobs.constants';

/**
 * Lifts the fair-queue hold of a tenant that is no longer suspended or provisioning, so its
 * buffered jobs are admitted again after a reactivation, whichever route or process made it; and
 * of one held through an outage once its wait is over (its parked job has come due by then).
 * Polled from the registry rather than told by the tenant change feed: a missed announcement (a
 * worker restarting, Redis blinking) would otherwise strand the tenant's backlog for good, and
 * the held tenants are few. A deleted tenant is let go too: its jobs are then refused, as before.
 * Every worker runs one; lifting twice is harmless.
 */
@Injectable()
export class HeldTenantsRecheck implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('HeldTenantsRecheck');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    @Inject(FAIR_QUEUE) private readonly queue: FairQueue,
    private readonly registry: TenantRegistry,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.running ??= this.recheck()
        .then(() => undefined)
        .catch((error: unknown) => this.logger.warn({ err: error }, 'held tenants could not be rechecked'))
        .finally(() => {
          this.running = undefined;
        });
    }, SUSPENDED_RECHECK_MS);
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Lifts the hold of every held tenant that may run again; answers how many. */
  async recheck(): Promise<number> {
    let lifted = 0;
    for (const { tenant: id } of await this.queue.heldTenants()) {
      if (id !== PLATFORM_KEY) {
        const tenant = await this.registry.findById(id);
        if (tenant?.status === 'suspended' || tenant?.status === 'provisioning') continue;
      }
      // Its wait compared in Redis, by Redis' clock, when it is lifted: a longer one asked for
      // since the list was read is kept, and no worker's clock decides.
      if (await this.queue.unhold(id, { onlyIfDue: true })) lifted++;
    }
    return lifted;
  }
}
