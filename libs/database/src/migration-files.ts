import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CitusTablePlacement, MigrationSet, MigrationSource } from './migration-source';

export interface MigrationFile {
  owner: string;
  set: MigrationSet;
  version: number;
  name: string;
  sql: string;
  checksum: string;
  /**
   * The entries of the pre-owner ledger (one global sequence per set) this file's content was
   * applied under, so a database migrated before owners existed upgrades without re-applying it.
   */
  legacy: Array<{ set: MigrationSet; version: number }>;
  /** From its source: where its tenant tables live in a Citus pool. */
  citusTables: CitusTablePlacement;
  /**
   * Checksums of earlier texts of this file that a ledger may record (`-- bulkhead:equivalent-to
   * <sha256>`): a file is only ever rewritten to a text with exactly the same effect.
   */
  equivalentTo: string[];
}

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;
const LEGACY = /^--\s*bulkhead:legacy\s+(control|tenant)\s+(\d+)\s*$/gm;
const EQUIVALENT = /^--\s*bulkhead:equivalent-to\s+([0-9a-f]{64})\s*$/gm;

/** Read once per process: a fleet run applies the same files to thousands of placements. */
const loaded = new Map<string, MigrationFile[]>();

/** One owner's migrations, in version order; versions must run 1, 2, 3, ... with no gap. */
export function loadMigrations(source: MigrationSource): MigrationFile[] {
  const key = `${source.owner}\u0000${source.set}\u0000${source.dir}\u0000${source.citusTables ?? 'distributed'}`;
  let migrations = loaded.get(key);
  if (!migrations) {
    migrations = readMigrations(source);
    loaded.set(key, migrations);
  }
  return migrations;
}

function readMigrations(source: MigrationSource): MigrationFile[] {
  if (!existsSync(source.dir)) throw new Error(`Migrations of ${source.owner} not found at ${source.dir}`);
  const files = readdirSync(source.dir).filter((file) => file.endsWith('.sql')).sort();
  const migrations = files.map((file) => {
    const match = FILE_NAME.exec(file);
    if (!match) throw new Error(`Migration file ${source.owner}/${file} must be named NNNN_snake_name.sql`);
    const sql = readFileSync(join(source.dir, file), 'utf8');
    return {
      owner: source.owner,
      set: source.set,
      version: Number(match[1]),
      name: match[2],
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
      legacy: [...sql.matchAll(LEGACY)].map((claim) => ({ set: claim[1] as MigrationSet, version: Number(claim[2]) })),
      citusTables: source.citusTables ?? 'distributed',
      equivalentTo: [...sql.matchAll(EQUIVALENT)].map((claim) => claim[1]),
    };
  });
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(`Migration ${source.owner}/${migration.version} is out of sequence; an owner's versions must be 1, 2, 3, ...`);
    }
  });
  return migrations;
}

/** How a migration is named in reports: `<owner>/<version>_<name>`. */
export function migrationLabel(migration: { owner: string; version: number; name: string }): string {
  return `${migration.owner}/${migration.version}_${migration.name}`;
}
