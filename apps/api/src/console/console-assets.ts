import { BulkheadConfig } from '@bulkhead/config';
import { Injectable } from '@nestjs/common';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';

export interface ConsoleAsset {
  body: Buffer;
  type: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * The console's built files, read once at start into memory (a few dozen kilobytes): a request
 * can only name a file that was there, by its bare name, so no path from a URL ever reaches the
 * file system.
 */
@Injectable()
export class ConsoleAssets {
  private readonly files = new Map<string, ConsoleAsset>();

  constructor(config: BulkheadConfig) {
    const dir = config.CONSOLE_ASSETS_DIR;
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const type = TYPES[extname(name)];
      if (type) this.files.set(name, { body: readFileSync(join(dir, name)), type });
    }
  }

  get built(): boolean {
    return this.files.has('index.html');
  }

  get(name: string): ConsoleAsset | undefined {
    return this.files.get(name);
  }
}
