/**
 * An independent model of the scheduler's order, written from the definition of stride
 * scheduling rather than from the Lua: serve the smallest pass (ties by tenant name), advance
 * it by 1000/weight, and let a tenant that (re)joins start at max(its pass, virtual time).
 */
export function strideOrder(backlogs: Record<string, number>, weights: Record<string, number>, take: number): string[] {
  const pass = new Map<string, number>();
  const left = new Map(Object.entries(backlogs));
  for (const tenant of left.keys()) pass.set(tenant, 0);
  const out: string[] = [];
  while (out.length < take) {
    const candidates = [...left.entries()].filter(([, n]) => n > 0).map(([t]) => t);
    if (candidates.length === 0) break;
    candidates.sort((a, b) => pass.get(a)! - pass.get(b)! || (a < b ? -1 : a > b ? 1 : 0));
    const tenant = candidates[0];
    out.push(tenant);
    left.set(tenant, left.get(tenant)! - 1);
    pass.set(tenant, pass.get(tenant)! + 1000 / weights[tenant]);
  }
  return out;
}
