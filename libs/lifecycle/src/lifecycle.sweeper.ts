import { BulkheadConfig } from '@bulkhead/config';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { LifecycleOutbox } from './events/lifecycle-outbox';
import { SagaLedger } from './saga/saga.ledger';
import { SagaStarter } from './saga/saga-starter';
import { WarmPool } from './warm-pool/warm-pool';

/**
 * The worker's background rounds (every LIFECYCLE_SWEEP_MS): sagas no run holds and that have
 * not moved (their job lost, their runner killed) are enqueued again; lifecycle events are
 * delivered from the outbox; the warm pool is refilled. One round at a time per process.
 */
@Injectable()
export class LifecycleSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('LifecycleSweeper');
  private timer?: NodeJS.Timeout;
  private round?: Promise<void>;

  constructor(
    private readonly ledger: SagaLedger,
    private readonly starter: SagaStarter,
    private readonly outbox: LifecycleOutbox,
    private readonly warmPool: WarmPool,
    private readonly config: BulkheadConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (!this.round) this.round = this.sweep().finally(() => (this.round = undefined));
    }, this.config.LIFECYCLE_SWEEP_MS);
  }

  async sweep(): Promise<void> {
    try {
      for (const saga of await this.ledger.stalled(Math.max(2 * this.config.LIFECYCLE_LEASE_MS, 10_000))) {
        const runs = await this.ledger.bumpRuns(saga.id);
        await this.ledger.touch(saga.id);
        await this.starter.enqueue(saga.id, runs, 'lifecycle-sweeper');
      }
      await this.outbox.deliver();
      await this.warmPool.refill();
    } catch (error) {
      this.logger.warn({ err: error }, 'lifecycle sweep failed; next round retries');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.round;
  }
}
