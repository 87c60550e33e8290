import { DataSource, EntityMetadata, EntityTarget, FindOperator, ObjectLiteral } from 'typeorm';
import { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { TenantBoundaryViolationError } from './boundary.errors';
import { PageRequest, refuseTenantIn } from './scoped-query';
import { toSqlLiteral } from './sql-literal';
import { TenantOwnedEntity } from './tenant-owned.entity';

/** Comparisons a compiled read takes besides plain equality (TypeORM's find operators of those names). */
const COMPARISONS: Record<string, string> = { equal: '=', moreThan: '>', moreThanOrEqual: '>=', lessThan: '<', lessThanOrEqual: '<=' };
const OPERATORS = new Set([...Object.keys(COMPARISONS), 'between', 'isNull', 'in']);

/**
 * A tenant-table SELECT compiled once per query shape (entity, filtered columns, limit), not rebuilt by a QueryBuilder on every request: the statement text is cached and only
 * the values change. It always leads with the tenant predicate (also what makes the
 * `(tenant_id, ...)` indexes usable), pages are keyset pages in id order, and the rows are
 * hydrated through the driver, so column transformers and types apply as in TypeORM's own reads.
 */
export class CompiledSelect<E extends TenantOwnedEntity> {
  private constructor(
    private readonly metadata: EntityMetadata,
    private readonly columns: readonly ColumnMetadata[],
    private readonly filters: readonly Filter[],
    private readonly head: string,
    private readonly tail: string,
    private readonly dataSource: DataSource,
  ) {}

  /** The statement for one request, values inlined as literals (it travels in a simple-protocol message). */
  sql(tenantId: string, page: PageRequest<E>): string {
    const where = (page.where ?? {}) as Record<string, unknown>;
    let sql = this.head + toSqlLiteral(tenantId);
    for (const filter of this.filters) sql += ` AND ${this.condition(filter, where[filter.property])}`;
    if (page.after !== undefined) sql += ` AND e."id" > ${toSqlLiteral(page.after)}`;
    return sql + this.tail;
  }

  hydrate(rows: readonly ObjectLiteral[]): E[] {
    const driver = this.dataSource.driver;
    return rows.map((row) => {
      const entity = this.metadata.create() as ObjectLiteral;
      for (let i = 0; i < this.columns.length; i++) {
        const column = this.columns[i];
        column.setEntityValue(entity, driver.prepareHydratedValue(row[`c${i}`], column));
      }
      return entity as E;
    });
  }

  /**
   * One filter as SQL, its values inlined as literals: prepared for the column as TypeORM would
   * (its transformer, its type), then quoted by toSqlLiteral, which refuses anything but scalars.
   */
  private condition(filter: Filter, value: unknown): string {
    const { sql: column } = filter;
    const literal = (operand: unknown) => toSqlLiteral(this.dataSource.driver.preparePersistentValue(operand, filter.column));
    if (value === null) return `${column} IS NULL`;
    if (!(value instanceof FindOperator)) return `${column} = ${literal(value)}`;
    const operand = value.value as unknown;
    if (value.type === 'isNull') return `${column} IS NULL`;
    if (value.type === 'between') {
      const [low, high] = operand as [unknown, unknown];
      return `${column} BETWEEN ${literal(low)} AND ${literal(high)}`;
    }
    if (value.type === 'in') {
      const items = operand as unknown[];
      return items.length === 0 ? 'FALSE' : `${column} IN (${items.map(literal).join(', ')})`;
    }
    return `${column} ${COMPARISONS[value.type]} ${literal(operand)}`;
  }


  /** The compiled statement for this request's shape, from the data source's cache. */
  static of<E extends TenantOwnedEntity>(dataSource: DataSource, target: EntityTarget<E>, page: PageRequest<E>): CompiledSelect<E> {
    const where = (page.where ?? {}) as Record<string, unknown>;
    refuseTenantIn(where);
    const filters = Object.keys(where).sort();
    for (const property of filters) {
      const value = where[property];
      // TypeORM would drop an undefined filter and match every row of the tenant: refuse it.
      if (value === undefined) throw new TenantBoundaryViolationError(`the filter on ${property} has no value`);
      if (value instanceof FindOperator ? !OPERATORS.has(value.type) : value !== null && typeof value === 'object' && !(value instanceof Date)) {
        throw new TenantBoundaryViolationError(`the filter on ${property} is not a value or a supported comparison`);
      }
    }
    if (page.limit !== undefined && !(Number.isSafeInteger(page.limit) && page.limit >= 0)) throw new TenantBoundaryViolationError('a page limit must be a non-negative integer');
    // Filters, cursor and values become SQL per request; only the columns and the limit are compiled.
    const shape = `${filters.join(',')}|${page.limit ?? ''}`;
    let byShape = CACHE.get(dataSource)?.get(target);
    if (!byShape) {
      const forSource = CACHE.get(dataSource) ?? new Map<EntityTarget<ObjectLiteral>, Map<string, CompiledSelect<TenantOwnedEntity>>>();
      CACHE.set(dataSource, forSource);
      byShape = new Map();
      forSource.set(target, byShape);
    }
    const cached = byShape.get(shape);
    if (cached) return cached as unknown as CompiledSelect<E>;
    const compiled = CompiledSelect.compile(dataSource, target, filters, page.limit);
    byShape.set(shape, compiled as unknown as CompiledSelect<TenantOwnedEntity>);
    return compiled;
  }

  private static compile<E extends TenantOwnedEntity>(dataSource: DataSource, target: EntityTarget<E>, filters: readonly string[], limit: number | undefined): CompiledSelect<E> {
    const metadata = dataSource.getMetadata(target);
    const compiledFilters = filters.map((property): Filter => {
      const column = metadata.findColumnWithPropertyName(property);
      if (!column) throw new TenantBoundaryViolationError(`unknown column ${property}`);
      return { property, column, sql: `e."${column.databaseName}"` };
    });
    if (metadata.schema !== undefined) throw new TenantBoundaryViolationError('tenant tables are found through the search path, not a fixed schema');
    const columns = metadata.columns;
    const select = columns.map((column, i) => `e."${column.databaseName}" AS "c${i}"`).join(', ');
    const tenant = metadata.findColumnWithPropertyName('tenantId') as ColumnMetadata;
    const head = `SELECT ${select} FROM "${metadata.tableName}" e WHERE e."${tenant.databaseName}" = `;
    const tail = ` ORDER BY e."id" ASC${limit !== undefined ? ` LIMIT ${limit}` : ''}`;
    return new CompiledSelect<E>(metadata, columns, compiledFilters, head, tail, dataSource);
  }
}

/** A filtered column, resolved once per shape. */
interface Filter {
  readonly property: string;
  readonly column: ColumnMetadata;
  /** The column as it appears in the statement. */
  readonly sql: string;
}

/** Weak by data source: a silo's pool that is closed takes its compiled statements with it. */
const CACHE = new WeakMap<DataSource, Map<EntityTarget<ObjectLiteral>, Map<string, CompiledSelect<TenantOwnedEntity>>>>();
