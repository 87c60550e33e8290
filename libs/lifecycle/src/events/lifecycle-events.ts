import { DiscoveryService } from '@nestjs/core';

/** A lifecycle event as delivered from the outbox: at least once, so dedupe by `id`. */
export interface LifecycleEvent {
  id: string;
  type: 'tenant.activated' | 'tenant.offboarded' | 'tenant.restored' | 'tenant.erased';
  tenantId: string;
  payload: Record<string, unknown>;
  occurredAt: string;
}

/** Acts on lifecycle events (metering opens an account, flags set defaults, ...). Idempotent. */
export interface LifecycleEventHandler {
  readonly name: string;
  handle(event: LifecycleEvent): Promise<void>;
}

/** Marks a provider as a lifecycle event handler; the worker's outbox relay discovers every one. */
export const LifecycleEventHandlerProvider = DiscoveryService.createDecorator<void>();
