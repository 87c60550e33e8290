/** `control` is the platform's own catalogue; `tenant` is the data set every tenant placement carries. */
export type MigrationSet = 'control' | 'tenant';

/**
 * A folder of migrations and who owns them. Each owner (a platform lib or a domain) numbers its
 * own files 0001, 0002, ...; the ledger records owner and version, so owners never share a sequence.
 */
export interface MigrationSource {
  owner: string;
  set: MigrationSet;
  dir: string;
  /** Where this owner's tenant tables live in a Citus pool; distributed by `tenant_id` unless it says otherwise. */
  citusTables?: CitusTablePlacement;
}

/**
 * `distributed`: sharded by `tenant_id`, colocated with every other tenant table. `coordinator`:
 * kept as plain tables on the coordinator, for tables whose triggers read other tables (a shard
 * cannot run a query on another distributed table).
 */
export type CitusTablePlacement = 'distributed' | 'coordinator';

const OWNER = /^[a-z][a-z0-9-]{1,31}$/;

export function migrationSource(owner: string, set: MigrationSet, dir: string, citusTables?: CitusTablePlacement): MigrationSource {
  if (!OWNER.test(owner)) throw new Error(`Migration owner "${owner}" must be 2-32 lower-case letters, digits or hyphens`);
  return citusTables ? { owner, set, dir, citusTables } : { owner, set, dir };
}

/** Every source of one set, in order, refusing an owner named twice. */
export function sourcesOf(sources: readonly MigrationSource[], set: MigrationSet): MigrationSource[] {
  const seen = new Set<string>();
  for (const source of sources) {
    if (seen.has(source.owner)) throw new Error(`Migration owner "${source.owner}" is registered twice`);
    seen.add(source.owner);
  }
  return sources.filter((source) => source.set === set);
}
