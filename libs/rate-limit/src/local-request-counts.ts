/**
 * Request counts not yet in Redis (requests admitted from a lease, and every request decided in
 * memory while Redis was unreachable), held in this process until the next settle and then added
 * to the same per-minute hashes. A process that dies before that loses them.
 */
export class LocalRequestCounts {
  private pending = new Map<string, Map<string, number>>();

  add(key: string, field: string): void {
    let fields = this.pending.get(key);
    if (!fields) this.pending.set(key, (fields = new Map()));
    fields.set(field, (fields.get(field) ?? 0) + 1);
  }

  get isEmpty(): boolean {
    return this.pending.size === 0;
  }

  /** Hands every pending count over and forgets them; `restore` gives them back if the flush failed. */
  drain(): Map<string, Map<string, number>> {
    const drained = this.pending;
    this.pending = new Map();
    return drained;
  }

  restore(drained: Map<string, Map<string, number>>): void {
    for (const [key, fields] of drained) {
      for (const [field, count] of fields) {
        let current = this.pending.get(key);
        if (!current) this.pending.set(key, (current = new Map()));
        current.set(field, (current.get(field) ?? 0) + count);
      }
    }
  }
}
