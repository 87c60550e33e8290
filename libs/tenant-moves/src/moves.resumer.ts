import { BulkheadConfig } from '@bulkhead/config';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { MoveStore } from './move-store';
import { TenantMover } from './tenant-mover';

/**
 * The worker's rounds (every MOVES_RESUME_INTERVAL_MS) that resume moves whose mover died: the API
 * process that ran it was killed or redeployed, or a `bulkhead tenant move` was interrupted. Such a
 * move otherwise waits for an operator, its capture trigger logging every write of the tenant
 * meanwhile (or, past the switch, its old placement kept). A move counts once it has made no
 * progress for MOVES_RESUME_AFTER_MS; its lease (held by a live mover, gone with a dead one)
 * decides, so a move another process drives is left to it. A failed move is not resumed: an
 * operator reads its error, then asks again or aborts. One move at a time per process.
 */
@Injectable()
export class MovesResumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('MovesResumer');
  private timer?: NodeJS.Timeout;
  private round?: Promise<string[]>;

  constructor(
    private readonly store: MoveStore,
    private readonly mover: TenantMover,
    private readonly config: BulkheadConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.MOVES_RESUME_INTERVAL_MS === 0) return;
    this.timer = setInterval(() => {
      if (!this.round) this.round = this.resume().finally(() => (this.round = undefined));
    }, this.config.MOVES_RESUME_INTERVAL_MS);
  }

  /**
   * One round: each quiet move whose lease is free is driven to its end, one after another (a move
   * that fails is recorded failed by the mover and left to an operator). Answers the moves it drove.
   */
  async resume(): Promise<string[]> {
    const resumed: string[] = [];
    let quiet: string[];
    try {
      quiet = await this.store.quiet(this.config.MOVES_RESUME_AFTER_MS);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not list stalled moves; the next round tries again');
      return resumed;
    }
    for (const id of quiet) {
      try {
        const outcome = await this.mover.resume(id);
        if (!outcome) continue;
        resumed.push(id);
        this.logger.log({ moveId: id, phase: outcome.phase }, 'resumed a move whose mover had stopped');
      } catch (error) {
        resumed.push(id);
        this.logger.warn({ err: error, moveId: id }, 'a resumed move stopped; see its record');
      }
    }
    return resumed;
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.round;
  }
}
