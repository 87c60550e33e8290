import { BulkheadConfig } from '@bulkhead/config';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { NoisyDetector } from './noisy-detector';
import { minuteOf } from './usage-measures';
import { UsageRecorder } from './usage.recorder';

/**
 * The worker's clock for the detector: every NOISY_INTERVAL_MS it evaluates the last complete
 * minute, once it is a few seconds old (every instance's last flush has landed). Every worker
 * runs it; a lock per minute makes one of them do it.
 */
@Injectable()
export class NoisyDetectorSchedule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('NoisyNeighbours');
  private timer: NodeJS.Timeout | undefined;
  private lastEvaluated = 0;

  constructor(
    private readonly config: BulkheadConfig,
    private readonly detector: NoisyDetector,
    private readonly recorder: UsageRecorder,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.NOISY_INTERVAL_MS === 0) return;
    this.timer = setInterval(() => void this.tick(), this.config.NOISY_INTERVAL_MS);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    // Flushes land within a second or two of a minute's end.
    const minute = minuteOf(Date.now() - 3000) - 1;
    if (minute <= this.lastEvaluated) return;
    try {
      await this.recorder.flush();
      await this.detector.evaluate(minute);
      this.lastEvaluated = minute;
    } catch (error) {
      this.logger.warn({ err: error }, 'noisy-neighbour detection failed; retried on the next tick');
    }
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
