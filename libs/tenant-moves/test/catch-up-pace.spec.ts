import { CatchUpPace } from '../src/catch-up-pace';
import { MoverPace } from '../src/mover-pace';

/** The steps a catch-up takes for a sequence of backlogs left by its rounds. */
function steps(backlogs: number[]): string[] {
  const pace = new CatchUpPace(new MoverPace(1));
  return backlogs.map((left) => pace.next(left));
}

describe('catch-up pace', () => {
  it('fences as soon as fewer than 200 changes are left', () => {
    expect(steps([150])).toEqual(['fence']);
    expect(steps([30_000, 12_000, 190])).toEqual(['rest', 'rest', 'fence']);
  });

  it('rests after each round while resting still lets the backlog shrink by a quarter', () => {
    expect(steps([40_000, 28_000, 20_000, 14_000])).toEqual(['rest', 'rest', 'rest', 'rest']);
  });

  it('stops resting when a paced round barely gains on the writes, and rests again once rounds gain', () => {
    // 100 writes/s of a tenant with an audit trail: a rest lets in almost what a round applies.
    expect(steps([34_000, 33_800, 32_000, 20_000])).toEqual(['rest', 'go', 'go', 'rest']);
  });

  it('fences a busy tenant whose unpaced rounds no longer shrink the backlog, once that is a round or less', () => {
    // Each unpaced round leaves what the writes brought in meanwhile: never under 200.
    expect(steps([5_000, 4_900, 700, 690, 680])).toEqual(['rest', 'go', 'rest', 'go', 'fence']);
  });

  it('does not fence while a settled backlog is more than the fence should apply, and goes on while rounds gain', () => {
    expect(steps([5_000, 4_900, 1_500, 1_480, 1_470])).toEqual(['rest', 'go', 'rest', 'go', 'go']);
  });

  it('rests again when an unpaced round did not shrink the backlog: going flat out does not win', () => {
    expect(steps([9_000, 8_950, 9_100, 9_050])).toEqual(['rest', 'go', 'rest', 'go']);
  });

  it('fences once the catch-up has lasted its maximum, whatever is left: a tenant writing faster than it applies cannot keep a move from ending', () => {
    let now = 0;
    const pace = new CatchUpPace(new MoverPace(1), 60_000, () => now);
    // The backlog grows whatever the pace does.
    const seen = [9_000, 9_500, 10_000, 10_500].map((left) => {
      now += 10_000;
      return pace.next(left);
    });
    expect(seen).toEqual(['rest', 'go', 'rest', 'go']);
    expect(pace.overran).toBe(false);
    now = 60_000;
    expect(pace.next(11_000)).toBe('fence');
    expect(pace.overran).toBe(true);
  });

  it('does not take a paced round that left as much as it found for a standstill', () => {
    // The rest let the writes in; only an unpaced round tells what the catch-up can do.
    expect(steps([1_000, 990])).toEqual(['rest', 'go']);
  });
});
