/**
 * Paces the mover's work outside the write fence to a duty cycle: after each batch it rests in
 * proportion to the time the batch took, so a move never holds the database and the API's event
 * loop for long stretches while other tenants are served. Under the fence nothing is paced: the
 * moving tenant's writes are waiting.
 */
export class MoverPace {
  private since = Date.now();

  /** `between` runs after each rest (the mover's lease check: a mover that lost it stops between batches). */
  constructor(
    private readonly dutyCycle: number,
    private readonly between: () => Promise<void> = () => Promise.resolve(),
  ) {}

  /** Rests after the work done since the last call (or since the pace started). */
  async rest(): Promise<void> {
    const worked = Date.now() - this.since;
    const restMs = this.dutyCycle >= 1 ? 0 : Math.min(5_000, worked * (1 / this.dutyCycle - 1));
    if (restMs >= 1) await new Promise((resolve) => setTimeout(resolve, restMs));
    await this.between();
    this.since = Date.now();
  }

  /** Goes on without resting: the work since the last call is not owed a rest. */
  skip(): void {
    this.since = Date.now();
  }
}
