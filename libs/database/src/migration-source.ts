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
}

const OWNER = /^[a-z][a-z0-9-]{1,31}$/;

export function migrationSource(owner: string, set: MigrationSet, dir: string): MigrationSource {
  if (!OWNER.test(owner)) throw new Error(`Migration owner "${owner}" must be 2-32 lower-case letters, digits or hyphens`);
  return { owner, set, dir };
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
