import { DataSourceRouter } from '@bulkhead/control-plane';
import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { MetricsRegistry } from './metrics.registry';

/**
 * Database pools and the per-tenant connection gate, read from the router at scrape time: the
 * request path pays nothing for them.
 */
@Injectable()
export class PoolMetrics {
  constructor(metrics: MetricsRegistry, router: DataSourceRouter) {
    const registers = [metrics.registry];
    new Gauge({
      name: 'bulkhead_db_pool_connections',
      help: "The shared pool's connections in this process, by state (total, idle; waiting: callers queued in the driver)",
      labelNames: ['state'],
      registers,
      collect() {
        const { shared } = router.poolStats();
        this.set({ state: 'total' }, shared.total);
        this.set({ state: 'idle' }, shared.idle);
        this.set({ state: 'waiting' }, shared.waiting);
      },
    });
    new Gauge({
      name: 'bulkhead_db_silo_pools_open',
      help: 'Silo tenant pools open in this process',
      registers,
      collect() {
        this.set(router.poolStats().siloPools);
      },
    });
    new Gauge({
      name: 'bulkhead_db_gate_units',
      help: 'Units of work at the per-tenant connection gate, by pool kind (shared, silo) and state (active: holding a connection, waiting)',
      labelNames: ['pool', 'state'],
      registers,
      collect() {
        const { gate } = router.poolStats();
        this.set({ pool: 'shared', state: 'active' }, gate.active.shared);
        this.set({ pool: 'silo', state: 'active' }, gate.active.silo);
        this.set({ pool: 'shared', state: 'waiting' }, gate.waiting.shared);
        this.set({ pool: 'silo', state: 'waiting' }, gate.waiting.silo);
      },
    });
    new Gauge({
      name: 'bulkhead_db_gate_tenants',
      help: 'Tenants holding or waiting for a connection in this process',
      registers,
      collect() {
        this.set(router.poolStats().gate.tenants);
      },
    });
    new Gauge({
      name: 'bulkhead_db_gate_tenants_held_back',
      help: "Tenants whose connection limit the gate's governor holds below their pool's size (the event loop was saturated and they held more than their share), by pool kind",
      labelNames: ['pool'],
      registers,
      collect() {
        const { heldBack } = router.poolStats().gate;
        this.set({ pool: 'shared' }, heldBack.shared);
        this.set({ pool: 'silo' }, heldBack.silo);
      },
    });
    new Gauge({
      name: 'bulkhead_db_gate_event_loop_utilisation',
      help: "The gate governor's smoothed event-loop utilisation (0-1), judged against POOL_SATURATION_UTILISATION; absent when the governor is off",
      registers,
      collect() {
        const utilisation = router.poolStats().gate.eventLoopUtilisation;
        if (utilisation === undefined) this.reset();
        else this.set(utilisation);
      },
    });
    new Counter({
      name: 'bulkhead_db_gate_shed_total',
      help: "Units of work refused by the gate (503 overloaded), by reason: excess (beyond a tenant's TENANT_MAX_QUEUE) or timeout (waited past POOL_QUEUE_BUDGET_MS)",
      labelNames: ['reason'],
      registers,
      collect() {
        const { shed } = router.poolStats().gate;
        this.reset();
        this.inc({ reason: 'excess' }, shed.excess);
        this.inc({ reason: 'timeout' }, shed.timeout);
      },
    });
  }
}
