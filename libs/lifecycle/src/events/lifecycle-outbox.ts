import { Injectable, Logger } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { v5 as uuidv5 } from 'uuid';
import { LifecycleStore } from '../lifecycle.store';
import { LifecycleEvent, LifecycleEventHandler, LifecycleEventHandlerProvider } from './lifecycle-events';

/** uuid v5 namespace for event ids: one event per saga and type, however often its step runs. */
const EVENT_NAMESPACE = '0b7c2f5e-8a61-4f0e-9d3a-6c1d2b7e9f10';

interface OutboxRow {
  id: string;
  tenant: string;
  type: LifecycleEvent['type'];
  payload: Record<string, unknown>;
  created_at: Date;
}

/**
 * The lifecycle outbox: a step records its event in the control plane (the id derived from the
 * saga, so a repeated step records it once); the worker delivers pending events to every
 * `@LifecycleEventHandlerProvider()` and marks them delivered. At least once: a crash between
 * handling and marking delivers again.
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

  async pending(tenantId?: string): Promise<LifecycleEvent[]> {
    const rows = await this.store.query<OutboxRow>(
      'SELECT id, tenant, type, payload, created_at FROM lifecycle_outbox WHERE delivered_at IS NULL AND ($1::uuid IS NULL OR tenant = $1) ORDER BY created_at LIMIT 100',
      [tenantId ?? null],
    );
    return rows.map((row) => ({ id: row.id, type: row.type, tenantId: row.tenant, payload: row.payload, occurredAt: row.created_at.toISOString() }));
  }

  /** Delivers what is pending; an event whose handler fails stays pending for the next round. */
  async deliver(): Promise<number> {
    let delivered = 0;
    for (const event of await this.pending()) {
      try {
        for (const handler of this.allHandlers()) await handler.handle(event);
      } catch (error) {
        this.logger.warn({ err: error, eventId: event.id, tenantId: event.tenantId }, 'lifecycle event not delivered; retrying next round');
        continue;
      }
      await this.store.query('UPDATE lifecycle_outbox SET delivered_at = now() WHERE id = $1', [event.id]);
      delivered++;
    }
    return delivered;
  }

  private allHandlers(): LifecycleEventHandler[] {
    this.handlers ??= this.discovery
      .getProviders({ metadataKey: LifecycleEventHandlerProvider.KEY })
      .map((wrapper) => wrapper.instance as LifecycleEventHandler)
      .filter((handler) => handler && typeof handler.handle === 'function');
    return this.handlers;
  }
}
