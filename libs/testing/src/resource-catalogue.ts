import type { ApiOperation, Schema } from './openapi-operations';

/** A path where POST creates a resource whose response carries its `id`. */
export interface Collection {
  path: string;
  create: ApiOperation;
  /** GET <path>/{id}, when there is one. */
  item?: ApiOperation;
  /** GET <path>, when there is one. */
  list?: ApiOperation;
}

/**
 * Which collection a path parameter or a property refers to, by REST conventions only: the
 * parameter right after a collection's path is one of its ids (`/customers/{id}`), and a uuid
 * property named `<thing>Id` refers to the collection whose path ends in `/<things>`.
 */
export class ResourceCatalogue {
  readonly collections: Collection[];

  constructor(private readonly operations: ApiOperation[]) {
    this.collections = operations
      .filter((operation) => operation.method === 'post' && operation.success?.schema?.properties?.id !== undefined)
      .filter((operation) => !/\}$/.test(operation.path))
      // A POST under an item path is an action on it (/tenants/{id}/suspend), unless items live below it.
      .filter((operation) => !operation.pathParameters.length || operations.some((other) => other.path.startsWith(`${operation.path}/{`)))
      .map((create) => ({
        path: create.path,
        create,
        item: operations.find((other) => other.method === 'get' && new RegExp(`^${escape(create.path)}/\\{[^}]+\\}$`).test(other.path)),
        list: operations.find((other) => other.method === 'get' && other.path === create.path),
      }));
  }

  forPathParameter(operation: ApiOperation, name: string): Collection | undefined {
    const segments = operation.path.split('/');
    const index = segments.indexOf(`{${name}}`);
    const prefix = segments.slice(0, index).join('/');
    const direct = this.collections.find((collection) => collection.path === prefix);
    if (direct) return direct;
    if (name !== 'id') return this.forReference(name);
    return this.byLastSegment(segments[index - 1], operation.path);
  }

  /** The collection a property such as `customerId` refers to, or undefined when it names none. */
  forReference(name: string): Collection | undefined {
    const match = /^(.+?)(Id|_id)$/.exec(name);
    if (!match) return undefined;
    const kebab = match[1].replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/_/g, '-').toLowerCase();
    for (const plural of plurals(kebab)) {
      const found = this.byLastSegment(plural);
      if (found) return found;
    }
    return undefined;
  }

  isReference(name: string, schema: Schema): boolean {
    return schema.format === 'uuid' && this.forReference(name) !== undefined;
  }

  private byLastSegment(segment: string | undefined, near = ''): Collection | undefined {
    if (!segment || segment.startsWith('{')) return undefined;
    const candidates = this.collections.filter((collection) => collection.path.split('/').pop() === segment);
    // Several (/v1/tenants, /v2/tenants): the one sharing the longest prefix with the caller.
    return candidates.sort((a, b) => commonPrefix(b.path, near) - commonPrefix(a.path, near))[0];
  }
}

function plurals(word: string): string[] {
  if (/[^aeiou]y$/.test(word)) return [`${word.slice(0, -1)}ies`, word];
  if (/(s|x|z|ch|sh)$/.test(word)) return [`${word}es`, word];
  return [`${word}s`, word];
}

function commonPrefix(a: string, b: string): number {
  let length = 0;
  while (length < a.length && a[length] === b[length]) length++;
  return length;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
