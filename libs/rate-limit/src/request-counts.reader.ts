import { ROUTE_CLASSES } from '@bulkhead/config';
import { Injectable } from '@nestjs/common';
import { RateLimitRedis } from './rate-limit.redis';
import { countsKey, minuteOf, refusedField } from './request-count.keys';
import { emptyCounts, MinuteCounts, RequestCountsView } from './request-counts.dto';

/**
 * The operator's read of one tenant's per-minute request counts, straight from Redis (one
 * pipelined HGETALL per minute, one round trip). Counts held in an API process during a Redis
 * outage appear once that process has handed them over.
 */
@Injectable()
export class RequestCountsReader {
  constructor(private readonly redis: RateLimitRedis) {}

  async read(tenantId: string, minutes: number, end: Date): Promise<RequestCountsView> {
    const last = minuteOf(end.getTime());
    const first = last - minutes + 1;
    // Operators' reads go on the connection whose timeout suits them: a decision's (100 ms) made a
    // 60-minute read answer 503 on a busy machine.
    const pipeline = this.redis.counts.pipeline();
    for (let minute = first; minute <= last; minute++) pipeline.hgetall(countsKey(tenantId, minute));
    const replies = (await pipeline.exec()) ?? [];
    const view: RequestCountsView = {
      tenantId,
      from: new Date(first * 60_000).toISOString(),
      to: new Date((last + 1) * 60_000).toISOString(),
      admitted: emptyCounts(),
      refused: emptyCounts(),
      minutes: [],
    };
    replies.forEach(([error, reply], index) => {
      if (error) throw error;
      const fields = reply as Record<string, string>;
      if (Object.keys(fields).length === 0) return;
      const counts: MinuteCounts = { minute: new Date((first + index) * 60_000).toISOString(), admitted: emptyCounts(), refused: emptyCounts() };
      for (const routeClass of ROUTE_CLASSES) {
        counts.admitted[routeClass] = Number(fields[routeClass] ?? 0);
        counts.refused[routeClass] = Number(fields[refusedField(routeClass)] ?? 0);
        view.admitted[routeClass] += counts.admitted[routeClass];
        view.refused[routeClass] += counts.refused[routeClass];
      }
      view.minutes.push(counts);
    });
    return view;
  }
}
