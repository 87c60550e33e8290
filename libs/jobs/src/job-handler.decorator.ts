import { DiscoveryService } from '@nestjs/core';

/**
 * Marks a provider as a job handler. Handlers live with their domain (and may use its services);
 * the worker discovers them, so the jobs lib never imports a domain lib.
 */
export const JobHandlerProvider = DiscoveryService.createDecorator<void>();
