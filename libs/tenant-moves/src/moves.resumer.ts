import { BulkheadConfig } from '@bulkhead/config';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { MoveLeaseLostError } from './move.errors';
import { MoveStore } from './move-store';
import { TenantMover } from './tenant-mover';

/**
 * The worker's rounds (every MOVES_RESUME_INTERVAL_MS) that resume moves whose mover died: the API
 * process that ran it was killed or redeployed, or a `bulkhead tenant move` was interrupted. Such a
 * move otherwise waits for an operator, its capture trigger logging every write of the tenant
 * meanwhile (or, past the switch, its old placement kept). A move counts once it has made no
 * progress for MOVES_RESUME_AFTER_MS and, before its switch, carries no error; its lease (held by a
 * live mover, gone with a dead one) decides, so a move another process drives is left to it. A move
 * that stopped on an error before its switch, or failed its parity check, is left to an operator;
 * past its switch only the drop of the old copy is left, and it is retried. Each resumed move runs on its own,
 * to its end; a shutdown does not wait for them (a move is resumable at any point).
 */
@Injectable()
export class MovesResumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('MovesResumer');
  private readonly driving = new Set<string>();
  private timer?: NodeJS.Timeout;
  private listing = false;

  constructor(
    private readonly store: MoveStore,
    private readonly mover: TenantMover,
    private readonly config: BulkheadConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.MOVES_RESUME_INTERVAL_MS === 0) return;
    this.timer = setInterval(() => void this.resume(), this.config.MOVES_RESUME_INTERVAL_MS);
  }

  /** One round: starts driving each quiet move this process does not drive yet. Answers the moves it started on. */
  async resume(): Promise<string[]> {
    if (this.listing) return [];
    this.listing = true;
    let quiet: string[];
    try {
      quiet = await this.store.quiet(this.config.MOVES_RESUME_AFTER_MS);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not list stalled moves; the next round tries again');
      return [];
    } finally {
      this.listing = false;
    }
    const started = quiet.filter((id) => !this.driving.has(id));
    for (const id of started) this.drive(id);
    return started;
  }

  /** The moves this process is driving now. */
  get inFlight(): ReadonlySet<string> {
    return this.driving;
  }

  private drive(id: string): void {
    this.driving.add(id);
    this.mover
      .resume(id)
      .then(
        (outcome) => outcome && this.logger.log({ moveId: id, phase: outcome.phase }, 'resumed a move whose mover had stopped'),
        (error: unknown) =>
          error instanceof MoveLeaseLostError
            ? this.logger.warn({ err: error, moveId: id }, 'lost the lease of a resumed move; the next round looks again')
            : this.logger.warn({ err: error, moveId: id }, 'a resumed move stopped on an error; it waits for an operator (see its record)'),
      )
      .finally(() => this.driving.delete(id));
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }
}
