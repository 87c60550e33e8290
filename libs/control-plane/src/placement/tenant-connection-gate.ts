import { BulkheadConfig } from '@bulkhead/config';
import { Injectable } from '@nestjs/common';
import { OverloadedProblem } from './placement.errors';

interface Lane {
  active: number;
  waiting: Array<() => void>;
}

const WAIT_MS = 5000;

/**
 * At most TENANT_MAX_CONNECTIONS units of work of one tenant hold a connection at once in this
 * process; the rest wait in that tenant's own line (bounded), so a noisy tenant queues behind
 * itself instead of taking every connection of a shared pool.
 */
@Injectable()
export class TenantConnectionGate {
  private readonly lanes = new Map<string, Lane>();
  private readonly cap: number;

  constructor(config: BulkheadConfig) {
    this.cap = config.TENANT_MAX_CONNECTIONS;
  }

  async enter(tenantId: string): Promise<void> {
    let lane = this.lanes.get(tenantId);
    if (!lane) {
      lane = { active: 0, waiting: [] };
      this.lanes.set(tenantId, lane);
    }
    if (lane.active < this.cap) {
      lane.active++;
      return;
    }
    if (lane.waiting.length >= this.cap * 16) throw new OverloadedProblem('Too many concurrent requests for this tenant.');
    const current = lane;
    await new Promise<void>((resolve, reject) => {
      const grant = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        current.waiting.splice(current.waiting.indexOf(grant), 1);
        reject(new OverloadedProblem('Too many concurrent requests for this tenant.'));
      }, WAIT_MS);
      current.waiting.push(grant);
    });
  }

  leave(tenantId: string): void {
    const lane = this.lanes.get(tenantId);
    if (!lane) return;
    const next = lane.waiting.shift();
    // The slot passes straight to the next waiter, so `active` stays the same.
    if (next) return next();
    lane.active--;
    if (lane.active === 0) this.lanes.delete(tenantId);
  }
}
