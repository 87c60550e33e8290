import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { RUNTIME_DATA_SOURCE } from '../control-plane.options';

/** Closes the shared pool last, after in-flight requests and jobs have finished. */
@Injectable()
export class RuntimeDataSourceLifecycle implements OnApplicationShutdown {
  constructor(@Inject(RUNTIME_DATA_SOURCE) private readonly dataSource: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
