import { MoverPace } from './mover-pace';

/** Below this many captured changes the mover raises the fence: what is left applies in well under a second. */
const FENCE_BACKLOG = 200;
/**
 * The most a settled catch-up leaves for the fence to apply: the tenant's writes wait while it
 * does (measured: 50 changes in 30-60 ms under load), so this bounds the fence, not a round's size.
 */
const FENCE_SETTLED_MAX = 1000;
/** A paced catch-up round must leave at most this share of the backlog it found, or the next round does not rest. */
const SHRINK = 0.75;
/** An unpaced round leaving between this share of the backlog and all of it has reached the tenant's write rate. */
const SETTLED = 0.9;

export type CatchUpStep = 'fence' | 'rest' | 'go';

/**
 * What the catch-up does after each round, from the backlog the round left. It rests (the mover's
 * duty cycle, for other tenants' sake) while resting still lets the backlog shrink well, and goes
 * on at once when a paced round barely gained: a tenant writing faster than a paced catch-up
 * applies would otherwise keep its move from ever reaching the fence (measured: a backlog of
 * 34,000 changes shrinking by 200 a round at 100 writes/s, each write bringing its audit entry,
 * link and mark). An unpaced round that did not shrink the backlog at all rests again: going flat
 * out does not win, and other tenants keep their share. It fences once the backlog is small, or
 * once an unpaced round no longer gains on the writes and leaves at most FENCE_SETTLED_MAX: the
 * steady state of a busy tenant may never dip under FENCE_BACKLOG. And it fences once the
 * catch-up has lasted `maxMs`, whatever is left: a tenant writing faster than unpaced rounds
 * apply (a bulk import) would otherwise keep its move catching up for ever. The fence then holds
 * the tenant's writes for as long as applying the rest takes (about 20,000 changes a second here).
 */
export class CatchUpPace {
  private before = Number.POSITIVE_INFINITY;
  private rested = false;
  private readonly startedAt: number;

  constructor(
    private readonly pace: MoverPace,
    private readonly maxMs = Number.POSITIVE_INFINITY,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
  }

  /** Whether the catch-up ran out of time (the last `next` fenced because of it). */
  get overran(): boolean {
    return this.now() - this.startedAt >= this.maxMs;
  }

  next(left: number): CatchUpStep {
    if (this.overran) return 'fence';
    const unpaced = !this.rested;
    const settled = unpaced && left <= this.before && left >= this.before * SETTLED;
    if (left <= FENCE_BACKLOG || (settled && left <= FENCE_SETTLED_MAX)) return 'fence';
    this.rested = left < this.before * SHRINK || (unpaced && left >= this.before);
    this.before = left;
    return this.rested ? 'rest' : 'go';
  }

  /** Takes the step `next` chose: rests, or goes on at once. */
  async take(step: Exclude<CatchUpStep, 'fence'>): Promise<void> {
    if (step === 'rest') await this.pace.rest();
    else this.pace.skip();
  }
}
