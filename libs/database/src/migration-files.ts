import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** `control` is the platform's own catalogue; `tenant` is the set every tenant placement carries. */
export type MigrationSet = 'control' | 'tenant';

export interface MigrationFile {
  set: MigrationSet;
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** The repository's `migrations/` folder, found from this file whether it runs from src or dist. */
export function migrationsRoot(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = join(dir, 'migrations');
    if (existsSync(join(candidate, 'control')) && existsSync(join(candidate, 'tenant'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('Cannot find the migrations/ folder above ' + __dirname);
    dir = parent;
  }
}

export function loadMigrations(set: MigrationSet, root = migrationsRoot()): MigrationFile[] {
  const dir = join(root, set);
  const files = readdirSync(dir).filter((file) => file.endsWith('.sql')).sort();
  const migrations = files.map((file) => {
    const match = FILE_NAME.exec(file);
    if (!match) throw new Error(`Migration file ${set}/${file} must be named NNNN_snake_name.sql`);
    const sql = readFileSync(join(dir, file), 'utf8');
    return {
      set,
      version: Number(match[1]),
      name: match[2],
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    };
  });
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) throw new Error(`Migration ${set}/${migration.version} is out of sequence; versions must be 1, 2, 3, ...`);
  });
  return migrations;
}
