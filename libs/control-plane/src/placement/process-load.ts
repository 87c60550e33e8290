import { performance, EventLoopUtilization } from 'node:perf_hooks';

/**
 * How busy this process's event loop is: the share of time it spent running callbacks rather
 * than waiting for I/O, smoothed over about half a second. Near 1, every request of every tenant
 * waits behind the others' callbacks, whatever the pool's connections are doing.
 */
export class ProcessLoad {
  private last: EventLoopUtilization = performance.eventLoopUtilization();
  private smoothed = 0;

  /** Takes a sample (call it at a steady interval) and returns the smoothed utilisation. */
  sample(): number {
    const now = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(now, this.last);
    this.last = now;
    this.smoothed = this.smoothed * 0.7 + delta.utilization * 0.3;
    return this.smoothed;
  }

  get utilisation(): number {
    return this.smoothed;
  }
}
