import { BulkheadConfig } from '@bulkhead/config';
import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { MeterDefinition, parseIngestMeters } from './meter.definition';
import { MeterProvider, MeterSource } from './meter-provider.decorator';

/** Every declared meter: those the modules declare (`@MeterProvider()`) and METERING_INGEST_METERS. */
@Injectable()
export class MeterCatalog implements OnApplicationBootstrap {
  private readonly meters = new Map<string, MeterDefinition>();
  private readonly sources = new Map<string, MeterSource>();

  constructor(
    private readonly discovery: DiscoveryService,
    config: BulkheadConfig,
  ) {
    for (const meter of parseIngestMeters(config.METERING_INGEST_METERS)) this.add(meter);
  }

  onApplicationBootstrap(): void {
    for (const wrapper of this.discovery.getProviders({ metadataKey: MeterProvider.KEY })) {
      const source = wrapper.instance as MeterSource;
      for (const meter of source.meters) {
        this.add(meter);
        this.sources.set(meter.name, source);
      }
    }
  }

  find(name: string): MeterDefinition | undefined {
    return this.meters.get(name);
  }

  all(): MeterDefinition[] {
    return [...this.meters.values()];
  }

  /**
   * The recorded meter whose event ids `id` would fall among (`<meter name>:...`, the only form
   * `UsageRecorder` accepts), if any: an ingested event may not take such an id, or it would
   * pre-empt the platform's own event (a duplicate, never counted nor billed).
   */
  recordedNamespaceOf(id: string): MeterDefinition | undefined {
    const colon = id.indexOf(':');
    if (colon <= 0) return undefined;
    const meter = this.meters.get(id.slice(0, colon));
    return meter?.origin === 'recorded' ? meter : undefined;
  }

  /** The module that declared a recorded meter, for its source of truth. */
  sourceOf(name: string): MeterSource | undefined {
    return this.sources.get(name);
  }

  private add(meter: MeterDefinition): void {
    const known = this.meters.get(meter.name);
    if (known && known !== meter) throw new Error(`Meter ${meter.name} is declared twice`);
    this.meters.set(meter.name, meter);
  }
}
