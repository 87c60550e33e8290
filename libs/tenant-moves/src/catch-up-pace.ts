import { MoverPace } from './mover-pace';

/** Below this many captured changes the mover raises the fence: what is left applies in well under a second. */
const FENCE_BACKLOG = 200;
/** Changes per catch-up round at least, whatever MOVES_BATCH_ROWS says: a round must outpace the tenant's writes. */
export const MIN_CATCH_UP_ROUND = 1000;
/** A paced catch-up round must leave at most this share of the backlog it found, or the next round does not rest. */
const SHRINK = 0.75;
/** An unpaced round leaving this share of the backlog or more has reached the tenant's write rate. */
const SETTLED = 0.9;

export type CatchUpStep = 'fence' | 'rest' | 'go';

/**
 * What the catch-up does after each round, from the backlog the round left. It rests (the mover's
 * duty cycle, for other tenants' sake) only while resting still lets the backlog shrink well: a
 * tenant writing faster than a paced catch-up applies would otherwise keep its move from ever
 * reaching the fence (measured: a backlog of 34,000 changes shrinking by 200 a round at 100
 * writes/s, each write bringing its audit entry, link and mark). And it fences once the backlog
 * is small, or once an unpaced round no longer gains on the writes and what is left is a round's
 * work at most: the steady state of a busy tenant may never dip under FENCE_BACKLOG, and the fence
 * then applies what one round would have.
 */
export class CatchUpPace {
  private before = Number.POSITIVE_INFINITY;
  private rested = false;

  /** `round`: the most changes a round applies. */
  constructor(
    private readonly pace: MoverPace,
    private readonly round: number,
  ) {}

  next(left: number): CatchUpStep {
    const settled = !this.rested && left >= this.before * SETTLED;
    if (left <= FENCE_BACKLOG || (settled && left <= this.round)) return 'fence';
    this.rested = left < this.before * SHRINK;
    this.before = left;
    return this.rested ? 'rest' : 'go';
  }

  /** Takes the step `next` chose: rests, or goes on at once. */
  async take(step: Exclude<CatchUpStep, 'fence'>): Promise<void> {
    if (step === 'rest') await this.pace.rest();
    else this.pace.skip();
  }
}
