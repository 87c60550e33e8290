import { quoteLiteral } from '@bulkhead/database';
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
 */
export async function insertEntities<E extends ObjectLiteral>(manager: EntityManager, target: EntityTarget<E>, entities: E[]): Promise<void> {
  if (entities.length === 0) return;
  const shape = shapeOf(manager.connection.getMetadata(target));
  if (!manager.queryRunner || !shape) {
    await manager.insert(target, entities as QueryDeepPartialEntity<E>[]);
    return;
  }
  await insertRows(manager, shape, entities, false);
}

/** One row, `INSERT ... ON CONFLICT DO NOTHING`: whether it was inserted (false when a row with its key or a unique value exists). */
export async function insertEntityIfAbsent<E extends ObjectLiteral>(manager: EntityManager, target: EntityTarget<E>, entity: E): Promise<boolean> {
  const shape = shapeOf(manager.connection.getMetadata(target));
  if (!manager.queryRunner || !shape) {
    const result = await manager.createQueryBuilder().insert().into(target).values(entity as QueryDeepPartialEntity<E>).orIgnore().returning('id').execute();
    return (result.raw as unknown[]).length > 0;
  }
  return (await insertRows(manager, shape, [entity], true)) > 0;
}

/** The statement itself; returns how many rows it inserted. With `orIgnore`, `entities` is one entity. */
async function insertRows<E extends ObjectLiteral>(manager: EntityManager, shape: InsertShape, entities: E[], orIgnore: boolean): Promise<number> {
  const runner = manager.queryRunner as NonNullable<EntityManager['queryRunner']>;
  const { metadata, table, insertable, returning, back } = shape;
  await broadcast(entities, (result, entity) => runner.broadcaster.broadcastBeforeInsertEvent(result, metadata, entity));

  // As TypeORM does: the value as the column's transformer and type make it, DEFAULT when that is
  // undefined, and a function's result inlined as SQL (`() => 'now()'`).
  const driver = manager.connection.driver;
  const prepared = entities.map((entity) =>
    insertable.map((column) => {
      const value: unknown = column.getEntityValue(entity);
      return typeof value === 'function' ? value : driver.preparePersistentValue(value, column);
    }),
  );
  let used = insertable.map((_, i) => prepared.some((row) => row[i] !== undefined));
  // Nothing given at all (not through the tenant stamp, which sets the key): every column's default.
  if (!used.includes(true)) used = insertable.map((_, i) => i === 0);
  const columns = insertable.filter((_, i) => used[i]);
  const given = prepared.map((row) => row.filter((_, i) => used[i]));
  // Inlined when every value can be: a statement without bind parameters travels in one message
  // with the transaction's opening (TenantQueryRunner), a round trip saved on every write.
  const literals = given.map((row) => row.map((value) => (value === undefined || typeof value === 'function' ? undefined : literalOf(driver, value))));
  const inline = given.every((row, r) => row.every((value, i) => value === undefined || typeof value === 'function' || literals[r][i] !== undefined));
  const parameters: unknown[] = [];
  const rows = given.map((row, r) => {
    const values = row.map((value, i) => {
      if (value === undefined) return 'DEFAULT';
      if (typeof value === 'function') return String((value as () => unknown)());
      if (inline) return literals[r][i] as string;
      parameters.push(value);
      return `$${parameters.length}`;
    });
    return `(${values.join(', ')})`;
  });
  const sql =
    `INSERT INTO ${table} (${columns.map((c) => driver.escape(c.databaseName)).join(', ')}) ` +
    `VALUES ${rows.join(', ')}${orIgnore ? ' ON CONFLICT DO NOTHING' : ''} RETURNING ${back}`;
  const raw = (await runner.query(sql, parameters)) as ObjectLiteral[];

  // Rows come back in VALUES order (with ON CONFLICT DO NOTHING, the one row or none).
  const inserted = entities.slice(0, raw.length);
  inserted.forEach((entity, i) => {
    for (const column of returning) {
      if (column.getEntityValue(entity) === undefined) column.setEntityValue(entity, driver.prepareHydratedValue(raw[i][column.databaseName], column));
    }
  });
  await broadcast(inserted, (result, entity) => runner.broadcaster.broadcastAfterInsertEvent(result, metadata, entity));
  return raw.length;
}

/**
 * The value as a quoted literal of the very text node-postgres would send as its bind parameter
 * (`prepareValue`: dates, arrays, JSON alike), so the server reads it as it would the parameter:
 * an untyped literal takes its column's type. Undefined when it cannot be inlined: binary data,
 * and text holding a NUL, which a simple query message cannot carry (as a parameter the server
 * refuses it with its own error).
 */
function literalOf(driver: EntityManager['connection']['driver'], value: unknown): string | undefined {
  if (value === null) return 'NULL';
  const text: unknown = (driver as unknown as { postgres: { utils: { prepareValue(value: unknown): unknown } } }).postgres.utils.prepareValue(value);
  if (text === null) return 'NULL';
  if (typeof text !== 'string' || text.includes('\0')) return undefined;
  return quoteLiteral(text);
}

/** What an insert of the entity needs from its metadata, worked out once per entity. */
interface InsertShape {
  metadata: EntityMetadata;
  /** The table, quoted. */
  table: string;
  insertable: readonly ColumnMetadata[];
  /** Columns the database may fill in (defaults), set back on the entity when it left them undefined. */
  returning: readonly ColumnMetadata[];
  /** The RETURNING list: the primary key and `returning`, quoted. */
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
          metadata,
          table: metadata.tablePath.split('.').map((part) => driver.escape(part)).join('.'),
          insertable: metadata.columns.filter((column) => column.isInsert),
          returning,
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
    metadata.columns.every((c) => !metadata.connection.driver.spatialTypes.includes(c.type as never) && !c.isGenerated && !c.isCreateDate && !c.isUpdateDate && !c.isDeleteDate && !c.isVersion && !c.isVirtual && c.asExpression === undefined)
  );
}

async function broadcast<E extends ObjectLiteral>(entities: readonly E[], each: (result: BroadcasterResult, entity: E) => void): Promise<void> {
  const result = new BroadcasterResult();
  for (const entity of entities) each(result, entity);
  await result.wait();
}
