import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { RUNTIME_DATA_SOURCE } from '../control-plane.options';

/** Readiness: can the runtime role get a pooled connection and run a statement. */
@Injectable()
export class DatabaseProbe {
  constructor(@Inject(RUNTIME_DATA_SOURCE) private readonly dataSource: DataSource) {}

  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }
}
