import { Injectable, Logger } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { v5 as uuidv5 } from 'uuid';
import { LifecycleStore } from '../lifecycle.store';
import { LifecycleEvent, LifecycleEventHandler, LifecycleEventHandlerProvider } from './lifecycle-events';

/** uuid v5 namespace for event ids: one event per saga and type, however often its step runs. */
const EVENT_NAMESPACE = '0b7c2f5e-8a61-4f0e-9d3a-6c1d2b7e9f10';

/** Events a round takes at most. */
const BATCH = 100;
/** A failed event's first wait; it doubles with each further attempt, up to the cap. */
const RETRY_BASE_MS = 2_000;
const RETRY_MAX_MS = 10 * 60_000;
/**
 * How long a round holds the events it took: another worker's round leaves them alone meanwhile,
 * and a round killed before it settled them gives them back when this runs out (at least once).
 */
const CLAIM_MS = 60_000;

interface OutboxRow {
  id: string;
  tenant: string;
  type: LifecycleEvent['type'];
  payload: Record<string, unknown>;
  created_at: Date;
}

interface ClaimedRow extends OutboxRow {
  attempts: number;
}

/** The wait before the next try of an event that failed its `attempts`-th try. */
function retryDelayMs(attempts: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(Math.max(attempts - 1, 0), 30));
}

/**
 * The lifecycle outbox: a step records its event in the control plane (the id derived from the
 * saga, so a repeated step records it once); the worker delivers pending events to every
 * `@LifecycleEventHandlerProvider()` and marks them delivered. At least once: a crash between
 * handling and marking delivers again. Each event keeps its own schedule (attempts, next attempt):
 * one that fails waits longer after each try, so no number of failing events holds back the others.
 */
@Injectable()
export class LifecycleOutbox {
  private readonly logger = new Logger('LifecycleOutbox');
  private handlers?: LifecycleEventHandler[];

  constructor(
    private readonly store: LifecycleStore,
    private readonly discovery: DiscoveryService,
  ) {}

  async record(sagaId: string, type: LifecycleEvent['type'], tenantId: string, payload: Record<string, unknown>): Promise<string> {
    const id = uuidv5(`${sagaId}:${type}`, EVENT_NAMESPACE);
    await this.store.query('INSERT INTO lifecycle_outbox (id, tenant, type, payload) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING', [id, tenantId, type, payload]);
    return id;
  }

  /**
   * Delivers the events that are due; an event whose handler fails is tried again after
   * a wait that doubles with its attempts. The others of the round go on regardless.
   */
  async deliver(): Promise<number> {
    let delivered = 0;
    for (const { event, attempts } of await this.claimDue()) {
      try {
        for (const handler of this.allHandlers()) await handler.handle(event);
      } catch (error) {
        this.logger.warn({ err: error, eventId: event.id, tenantId: event.tenantId, attempts }, 'lifecycle event not delivered; retrying later');
        await this.store.query(
          "UPDATE lifecycle_outbox SET next_attempt_at = now() + $2 * interval '1 millisecond', last_error = $3 WHERE id = $1 AND delivered_at IS NULL",
          [event.id, retryDelayMs(attempts), String((error as Error)?.message ?? error).slice(0, 500)],
        );
        continue;
      }
      await this.store.query('UPDATE lifecycle_outbox SET delivered_at = now(), last_error = NULL WHERE id = $1', [event.id]);
      delivered++;
    }
    return delivered;
  }

  /**
   * Takes up to BATCH due events, soonest due first, counting the attempt and holding them for
   * CLAIM_MS (SKIP LOCKED: two rounds at once take different events).
   */
  private async claimDue(): Promise<Array<{ event: LifecycleEvent; attempts: number }>> {
    const rows = await this.store.query<ClaimedRow>(
      `UPDATE lifecycle_outbox o SET attempts = o.attempts + 1, next_attempt_at = now() + $2 * interval '1 millisecond'
         FROM (SELECT id FROM lifecycle_outbox WHERE delivered_at IS NULL AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) due
        WHERE o.id = due.id
        RETURNING o.id, o.tenant, o.type, o.payload, o.created_at, o.attempts`,
      [BATCH, CLAIM_MS],
    );
    rows.sort((a, b) => a.created_at.getTime() - b.created_at.getTime());
    return rows.map((row) => ({ event: eventOf(row), attempts: row.attempts }));
  }

  private allHandlers(): LifecycleEventHandler[] {
    this.handlers ??= this.discovery
      .getProviders({ metadataKey: LifecycleEventHandlerProvider.KEY })
      .map((wrapper) => wrapper.instance as LifecycleEventHandler)
      .filter((handler) => handler && typeof handler.handle === 'function');
    return this.handlers;
  }
}

function eventOf(row: OutboxRow): LifecycleEvent {
  return { id: row.id, type: row.type, tenantId: row.tenant, payload: row.payload, occurredAt: row.created_at.toISOString() };
}
