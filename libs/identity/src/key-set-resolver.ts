import { Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { KeyObject } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { IdentityProviderUnavailableProblem, UnusableTokenKey } from './identity.errors';
import { parseKeySet, SigningAlgorithm, VerificationKey } from './key-set';
import { KeySetSource } from './key-set-source';

export interface KeySetResolverOptions {
  source: KeySetSource;
  algorithms: readonly SigningAlgorithm[];
  /** A set is trusted this long after the fetch that produced it started. */
  maxAgeMs: number;
  /** Least time between the starts of two fetches. */
  cooldownMs: number;
  /** A fetch that has not answered by then has failed. */
  fetchTimeoutMs: number;
}

interface Refresh {
  /** When the request to the provider went out; unset while it still waits out the cooldown. */
  startedAt?: number;
  readonly done: Promise<void>;
}

/** Unknown kids remembered at once, at most: a flood of random kids only recycles this memory. */
const ABSENT_KIDS_MAX = 10_000;

/**
 * The provider's current signing keys, by kid. One fetch at a time and at most one per cooldown,
 * whatever asks for it; a request only ever waits for a fetch whose answer it needs:
 *
 * - a known kid in a set younger than half its max age is answered from memory; between half and
 *   the full max age it still is, and a background refresh is started;
 * - a set older than its max age is trusted no more: the request waits for the refresh (bounded by
 *   the cooldown and the fetch timeout) and gets 503 if the provider cannot be reached, because a
 *   key the provider dropped must not keep working past the max age;
 * - an unknown kid waits for a fetch that started after the request arrived (joining the one in
 *   flight or the next one), so a key the provider has just added works on first use; a kid that
 *   fetch did not list is remembered as absent for half the max age and refused at once meanwhile.
 *
 * So unknown kids can cost the provider one fetch per cooldown, never more, and never make a
 * request on a known kid wait.
 */
export class KeySetResolver {
  private readonly logger = new Logger('KeySetResolver');
  private keys: ReadonlyMap<string, VerificationKey> = new Map();
  // Times come from the monotonic clock: a wall-clock step must not stretch a key's life.
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private lastStartAt = Number.NEGATIVE_INFINITY;
  private refreshing?: Refresh;
  private readonly absent: LRUCache<string, true>;

  constructor(private readonly options: KeySetResolverOptions) {
    this.absent = new LRUCache({ max: ABSENT_KIDS_MAX, ttl: Math.max(1, Math.floor(options.maxAgeMs / 2)) });
  }

  /** The key for a token's `kid` and `alg`; throws `UnusableTokenKey` (401) or `IdentityProviderUnavailableProblem` (503). */
  async keyFor(kid: string, algorithm: string): Promise<KeyObject> {
    const arrived = performance.now();
    if (arrived - this.fetchedAt <= this.options.maxAgeMs) {
      const known = this.trusted(kid, arrived);
      if (known) return matching(known, algorithm);
      if (this.absent.has(kid)) throw new UnusableTokenKey('unknown kid (remembered)');
    }
    // At most two rounds: the fetch in flight may have left before this request arrived (and
    // before the provider published its key); the next one cannot have.
    for (let round = 0; round < 2; round++) {
      const refresh = this.refresh();
      const startedBefore = refresh.startedAt !== undefined && refresh.startedAt < arrived;
      let failed = false;
      try {
        await refresh.done;
      } catch {
        failed = true;
      }
      if (performance.now() - this.fetchedAt > this.options.maxAgeMs) throw new IdentityProviderUnavailableProblem();
      // The provider did not answer: the kid is not known to be absent, only unknown.
      if (failed) throw new UnusableTokenKey('unknown kid (key set unavailable)');
      const known = this.keys.get(kid);
      if (known) return matching(known, algorithm);
      if (!startedBefore) break;
    }
    this.absent.set(kid, true);
    throw new UnusableTokenKey('unknown kid');
  }

  /**
   * The key `kid` maps to in the set trusted right now, without waiting for anything: undefined
   * when the set is past its max age or no longer lists the kid. Callers that remember what a key
   * verified compare it with this, so their memory ends when the key does.
   */
  currentKey(kid: string): KeyObject | undefined {
    const now = performance.now();
    return now - this.fetchedAt <= this.options.maxAgeMs ? this.trusted(kid, now)?.key : undefined;
  }

  /** A known kid of a set younger than its max age; from half that age on, a background refresh starts. */
  private trusted(kid: string, now: number): VerificationKey | undefined {
    const known = this.keys.get(kid);
    if (known && now - this.fetchedAt >= this.options.maxAgeMs / 2 && !this.refreshing) this.refreshInBackground();
    return known;
  }

  private refreshInBackground(): void {
    this.refresh().done.catch((error: unknown) => this.logger.warn({ err: error }, 'key set refresh failed; the current set stays trusted until its max age'));
  }

  /** The fetch in flight, or a new one that starts once the cooldown since the last start is over. */
  private refresh(): Refresh {
    if (this.refreshing) return this.refreshing;
    const refresh: { startedAt?: number; done?: Promise<void> } = {};
    refresh.done = this.fetch(refresh).finally(() => {
      if (this.refreshing === refresh) this.refreshing = undefined;
    });
    this.refreshing = refresh as Refresh;
    return this.refreshing;
  }

  private async fetch(refresh: { startedAt?: number }): Promise<void> {
    const wait = this.lastStartAt + this.options.cooldownMs - performance.now();
    if (wait > 0) await delay(wait, undefined, { ref: false });
    const startedAt = performance.now();
    refresh.startedAt = this.lastStartAt = startedAt;
    const body = await this.options.source(AbortSignal.timeout(this.options.fetchTimeoutMs));
    // Replaced whole: a key missing from the answer stops working now, not at the max age.
    this.keys = parseKeySet(body, this.options.algorithms, this.keys);
    this.fetchedAt = startedAt;
  }
}

function matching(known: VerificationKey, algorithm: string): KeyObject {
  if (known.algorithm !== algorithm) throw new UnusableTokenKey('the token algorithm does not match its key');
  return known.key;
}
