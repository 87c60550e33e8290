import { EntityManager, EntityMetadata, EntityTarget, ObjectLiteral, QueryDeepPartialEntity } from 'typeorm';
import { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { BroadcasterResult } from 'typeorm/subscriber/BroadcasterResult';

/**
 * Inserts rows of a tenant entity with a statement written straight from the entity's metadata,
 * instead of a TypeORM InsertQueryBuilder per call: that builder (expression map, parameter
 * naming, the returning-results updater) was about 190 µs of the API's CPU on every write of the
 * order route, under load, more than any other library on that path. What the builder did that
 * matters is kept: the BeforeInsert and AfterInsert listeners and subscribers run through the
 * query runner's broadcaster (the tenant stamp among them, which refuses another tenant and mints
 * the id), values go through the driver's `preparePersistentValue` (transformers, types), a value
 * left undefined is `DEFAULT`, and the columns the database fills in (defaults) come back with
 * RETURNING, hydrated by the driver. Entities with relations, embedded objects or TypeORM-managed
 * columns (create/update/delete dates, versions, generated values, tree or inheritance columns)
 * are handed to TypeORM's own insert, which knows those.
 *
 * Returns the rows the statement inserted (with `orIgnore`, those not skipped), in order.
 */
export async function insertEntities<E extends ObjectLiteral>(
  manager: EntityManager,
  target: EntityTarget<E>,
  entities: E[],
  options: { orIgnore?: boolean } = {},
): Promise<E[]> {
  const metadata = manager.connection.getMetadata(target);
  const runner = manager.queryRunner;
  const shape = shapeOf(metadata);
  if (!runner || !shape) {
    if (options.orIgnore) {
      const result = await manager.createQueryBuilder().insert().into(target).values(entities as QueryDeepPartialEntity<E>[]).orIgnore().returning('id').execute();
      const inserted = new Set((result.raw as Array<{ id: unknown }>).map((row) => row.id));
      return entities.filter((entity) => inserted.has(entity.id));
    }
    await manager.insert(target, entities as QueryDeepPartialEntity<E>[]);
    return entities;
  }
  await broadcast(entities, (result, entity) => runner.broadcaster.broadcastBeforeInsertEvent(result, metadata, entity));

  const driver = manager.connection.driver;
  const { table, insertable, returning, keys, back } = shape;
  const columns = insertable.filter((column) => entities.some((entity) => column.getEntityValue(entity) !== undefined));
  const parameters: unknown[] = [];
  const rows = entities.map((entity) => {
    const values = columns.map((column) => {
      const value = column.getEntityValue(entity);
      if (value === undefined) return 'DEFAULT';
      parameters.push(driver.preparePersistentValue(value, column));
      return `$${parameters.length}`;
    });
    return `(${values.join(', ')})`;
  });
  const sql =
    `INSERT INTO ${table} (${columns.map((c) => driver.escape(c.databaseName)).join(', ')}) ` +
    `VALUES ${rows.join(', ')}${options.orIgnore ? ' ON CONFLICT DO NOTHING' : ''} RETURNING ${back}`;
  const raw = (await runner.query(sql, parameters)) as ObjectLiteral[];

  // Rows come back in VALUES order; with ON CONFLICT DO NOTHING only the inserted ones, matched by key.
  const inserted = options.orIgnore ? matchByKey(keys, entities, raw, driver) : entities.map((entity, i) => [entity, raw[i]] as const);
  for (const [entity, row] of inserted) {
    for (const column of returning) {
      if (column.getEntityValue(entity) === undefined) column.setEntityValue(entity, driver.prepareHydratedValue(row[column.databaseName], column));
    }
  }
  const done = inserted.map(([entity]) => entity);
  await broadcast(done, (result, entity) => runner.broadcaster.broadcastAfterInsertEvent(result, metadata, entity));
  return done;
}

/** What an insert of the entity needs from its metadata, worked out once per entity. */
interface InsertShape {
  /** The table, quoted. */
  table: string;
  insertable: readonly ColumnMetadata[];
  /** Columns the database may fill in (defaults), set back on the entity when it left them undefined. */
  returning: readonly ColumnMetadata[];
  keys: readonly ColumnMetadata[];
  /** The RETURNING list: the keys and `returning`, quoted. */
  back: string;
}

const shapes = new WeakMap<EntityMetadata, InsertShape | null>();

/** The entity's insert shape, or null when it is not plain columns only (TypeORM's own insert then). */
function shapeOf(metadata: EntityMetadata): InsertShape | null {
  let shape = shapes.get(metadata);
  if (shape === undefined) {
    const driver = metadata.connection.driver;
    const returning = metadata.getInsertionReturningColumns();
    const keys = metadata.primaryColumns;
    shape = isPlain(metadata)
      ? {
          table: metadata.tablePath.split('.').map((part) => driver.escape(part)).join('.'),
          insertable: metadata.columns.filter((column) => column.isInsert),
          returning,
          keys,
          back: [...new Set([...keys, ...returning])].map((c) => driver.escape(c.databaseName)).join(', '),
        }
      : null;
    shapes.set(metadata, shape);
  }
  return shape;
}

/** Plain columns only: what TypeORM manages beyond them stays with its own insert. */
function isPlain(metadata: EntityMetadata): boolean {
  return (
    metadata.relations.length === 0 &&
    metadata.embeddeds.length === 0 &&
    !metadata.treeType &&
    !metadata.discriminatorColumn &&
    metadata.columns.every((c) => !c.isGenerated && !c.isCreateDate && !c.isUpdateDate && !c.isDeleteDate && !c.isVersion && !c.isVirtual && c.asExpression === undefined)
  );
}

async function broadcast<E extends ObjectLiteral>(entities: readonly E[], each: (result: BroadcasterResult, entity: E) => void): Promise<void> {
  const result = new BroadcasterResult();
  for (const entity of entities) each(result, entity);
  await result.wait();
}

function matchByKey<E extends ObjectLiteral>(
  keys: readonly ColumnMetadata[],
  entities: readonly E[],
  raw: readonly ObjectLiteral[],
  driver: EntityManager['connection']['driver'],
): Array<readonly [E, ObjectLiteral]> {
  const keyOf = (values: unknown[]) => JSON.stringify(values);
  const byKey = new Map(raw.map((row) => [keyOf(keys.map((k) => driver.prepareHydratedValue(row[k.databaseName], k))), row]));
  return entities.flatMap((entity) => {
    const row = byKey.get(keyOf(keys.map((k) => k.getEntityValue(entity))));
    return row ? [[entity, row] as const] : [];
  });
}
