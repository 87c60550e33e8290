import type { OpenAPIObject } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { ApiClient, ApiResponse } from './api-client';
import { CaseKind, IsolationCase, IsolationKitError, IsolationReport } from './isolation-report';
import type { ApiOperation } from './openapi-operations';
import { Actor, GeneratedRequest, RequestGenerator } from './request-generator';
import { NormalisedResponse, removeNoise, ResponseNormaliser } from './response-normaliser';

export interface IsolationTenant {
  id: string;
  token: string;
}

export interface IsolationMatrixOptions {
  /** The application's HTTP server (listened on an ephemeral port if it is not yet) or a base URL. */
  server: Server | string;
  document: OpenAPIObject;
  /** A probes, B is probed. */
  tenants: { a: IsolationTenant; b: IsolationTenant };
  /** Which operations are tenant routes; default: every secured operation. */
  include?: (path: string, method: string) => boolean;
  /** Removes per-request noise before responses are compared; default `removeNoise()`. */
  normalise?: ResponseNormaliser;
  /** Property and query names a tenant id could be smuggled in. */
  tenantFields?: string[];
  /** The header naming a tenant, and what naming another one must answer; false when there is none. */
  tenantHeader?: { name: string; status: number; code?: string } | false;
  /** What a body carrying a tenant field must answer (the ValidationPipe forbids unknown properties). */
  smuggledBodyStatus?: number;
}

const WRITE = new Set(['post', 'put', 'patch', 'delete']);
const LIMIT = /^(limit|size|page_?size|per_?page)$/i;

/**
 * Walks the document and runs the isolation matrix on every included operation: tenant A's
 * token against tenant B's resources and data, in every way the document lets a request name
 * them. Each case compares real responses of the running application; leaks and inconsistencies
 * are reported, a route the kit cannot exercise throws `IsolationKitError`.
 */
export async function runIsolationMatrix(options: IsolationMatrixOptions): Promise<IsolationReport> {
  const client = await ApiClient.connect(options.server);
  try {
    return await new MatrixRun(new RequestGenerator(options.document, client), options).execute();
  } finally {
    await client.close();
  }
}

class MatrixRun {
  private readonly a: Actor;
  private readonly b: Actor;
  private readonly normalise: ResponseNormaliser;
  private readonly tenantFields: string[];
  private readonly operations: ApiOperation[];
  private readonly cases: IsolationCase[] = [];

  constructor(
    private readonly generator: RequestGenerator,
    private readonly options: IsolationMatrixOptions,
  ) {
    this.a = { label: 'tenant A', token: options.tenants.a.token };
    this.b = { label: 'tenant B', token: options.tenants.b.token };
    this.normalise = options.normalise ?? removeNoise();
    this.tenantFields = options.tenantFields ?? ['tenantId', 'tenant_id'];
    const include = options.include ?? ((path: string, method: string) => generator.operation(`${method.toUpperCase()} ${path}`).secured);
    this.operations = generator.operations.filter((operation) => include(operation.path, operation.method));
  }

  async execute(): Promise<IsolationReport> {
    if (!this.operations.length) throw new IsolationKitError('No operation of the document is included: nothing would be tested');
    const unresolvable = this.operations.flatMap((operation) => this.generator.unresolvable(operation).map((parameter) => `${operation.key} ${parameter}`));
    if (unresolvable.length) throw new IsolationKitError(`No collection creates the resources these path parameters name: ${unresolvable.join(', ')}`);

    // Every collection the included routes can create, for both tenants: B's to probe, A's to compare with.
    for (const collection of this.generator.catalogue.collections.filter((candidate) => this.operations.includes(candidate.create))) {
      await this.generator.ensure(this.b, collection);
      await this.generator.ensure(this.a, collection);
    }

    for (const operation of this.operations) {
      if (operation.pathParameters.length) await this.foreignIds(operation);
      if (operation.method === 'get' && !operation.pathParameters.length) await this.lists(operation);
      await this.smuggledTenantInBody(operation);
      await this.smuggledTenantInQuery(operation);
      await this.smuggledTenantInHeader(operation);
      await this.foreignReferences(operation);
    }

    const operations = this.operations.map((operation) => ({ key: operation.key, cases: this.cases.filter((entry) => entry.operation === operation.key).length }));
    const uncovered = operations.filter((entry) => !entry.cases).map((entry) => entry.key);
    if (uncovered.length) throw new IsolationKitError(`No case could be run for ${uncovered.join(', ')}`);
    const casesByKind = {} as Record<CaseKind, number>;
    for (const entry of this.cases) casesByKind[entry.kind] = (casesByKind[entry.kind] ?? 0) + 1;
    return { operations, routes: operations.length, cases: this.cases.length, casesByKind, failures: this.cases.filter((entry) => entry.problems.length) };
  }

  /** A's token on B's resource answers exactly like a random id, as a 4xx, and leaves it unchanged. */
  private async foreignIds(operation: ApiOperation): Promise<void> {
    const own = await this.generator.request(operation, this.a, { fresh: WRITE.has(operation.method) });
    const foreignValues: Record<string, string> = {};
    const randomValues: Record<string, string> = {};
    for (const parameter of operation.pathParameters) {
      const collection = this.generator.catalogue.forPathParameter(operation, parameter.name);
      if (!collection) throw new IsolationKitError(`${operation.key}: {${parameter.name}} names no collection`);
      foreignValues[parameter.name] = (await this.generator.ensure(this.b, collection)).id;
      randomValues[parameter.name] = randomUUID();
    }
    await this.check('foreign-id', operation, `${Object.keys(foreignValues).map((name) => `{${name}}`).join(', ')} of tenant B`, async (problems) => {
      const before = await this.world(this.b);
      const foreign = await this.generator.send({ ...own, pathValues: foreignValues }, this.a);
      const random = await this.generator.send({ ...own, pathValues: randomValues }, this.a);
      const mine = await this.generator.send(own, this.a);
      this.sameAnswer(problems, foreign, Object.values(foreignValues), random, Object.values(randomValues));
      if (foreign.status < 400 || foreign.status >= 500) problems.push(`answered ${foreign.status}, not a 4xx`);
      if (equal(this.normalise(mine, Object.values(own.pathValues)), this.normalise(random, Object.values(randomValues)))) {
        problems.push(`A's own resource gets the same answer as a random id (${mine.status}), so the comparison proves nothing: is the generated request valid?`);
      }
      this.unchanged(problems, 'tenant B', before, await this.world(this.b));
    });
  }

  /** A's lists, plain and filtered or paged by each of B's ids, never contain any of B's ids. */
  private async lists(operation: ApiOperation): Promise<void> {
    const plain = await this.generator.request(operation, this.a);
    await this.check('list', operation, 'unfiltered', async (problems) => {
      const response = await this.generator.send(plain, this.a);
      if (response.status >= 300) problems.push(`answered ${response.status}: ${response.text.slice(0, 300)}`);
      this.noneOfB(problems, response, []);
    });
    for (const parameter of operation.queryParameters.filter((candidate) => candidate.schema.format === 'uuid')) {
      for (const id of this.idsOfB()) {
        await this.check('list-filter', operation, `${parameter.name}=<B's ${this.kindOf(id)}>`, async (problems) => {
          const response = await this.generator.send({ ...plain, query: { ...plain.query, [parameter.name]: id } }, this.a);
          if (response.status >= 500) problems.push(`answered ${response.status}`);
          this.noneOfB(problems, response, [id]);
        });
      }
    }
  }

  /** A tenant field added to a valid body is refused and writes nothing; one sent to a route without a body is never honoured. */
  private async smuggledTenantInBody(operation: ApiOperation): Promise<void> {
    if (!WRITE.has(operation.method)) return;
    const expected = this.options.smuggledBodyStatus ?? 400;
    for (const field of this.tenantFields) {
      const valid = await this.generator.request(operation, this.a, { fresh: true });
      const withBody = operation.body !== undefined && typeof valid.body === 'object' && valid.body !== null && !Array.isArray(valid.body);
      await this.check('body-tenant', operation, withBody ? `${field}: <B> added to a valid body` : `a body of { ${field}: <B> } on a route that takes none`, async (problems) => {
        const before = [await this.world(this.a), await this.world(this.b)];
        const response = await this.generator.send({ ...valid, body: { ...(withBody ? (valid.body as object) : {}), [field]: this.options.tenants.b.id } }, this.a);
        if (withBody && response.status !== expected) problems.push(`answered ${response.status}, not ${expected}: ${response.text.slice(0, 300)}`);
        if (response.status >= 500) problems.push(`answered ${response.status}`);
        this.noneOfB(problems, response, [this.options.tenants.b.id]);
        const after = [withBody ? await this.world(this.a) : before[0], await this.world(this.b)];
        this.unchanged(problems, 'tenant A', before[0], after[0]);
        this.unchanged(problems, 'tenant B', before[1], after[1]);
      });
    }
  }

  /** A tenant id in the query is refused (400) or ignored: the answer holds none of B's data and B is unchanged. */
  private async smuggledTenantInQuery(operation: ApiOperation): Promise<void> {
    for (const field of this.tenantFields) {
      const valid = await this.generator.request(operation, this.a, { fresh: WRITE.has(operation.method) });
      await this.check('query-tenant', operation, `?${field}=<B>`, async (problems) => {
        const before = WRITE.has(operation.method) ? await this.world(this.b) : '';
        const response = await this.generator.send({ ...valid, query: { ...valid.query, [field]: this.options.tenants.b.id } }, this.a);
        if (response.status >= 500) problems.push(`answered ${response.status}`);
        this.noneOfB(problems, response, [this.options.tenants.b.id]);
        if (WRITE.has(operation.method)) this.unchanged(problems, 'tenant B', before, await this.world(this.b));
      });
    }
  }

  private async smuggledTenantInHeader(operation: ApiOperation): Promise<void> {
    const header = this.options.tenantHeader ?? { name: 'X-Tenant-Id', status: 403, code: 'tenant_mismatch' };
    if (header === false) return;
    const valid = await this.generator.request(operation, this.a, { fresh: WRITE.has(operation.method) });
    await this.check('header-tenant', operation, `${header.name}: <B>`, async (problems) => {
      const write = WRITE.has(operation.method);
      const before = write ? [await this.world(this.a), await this.world(this.b)] : [];
      const response = await this.generator.send(valid, this.a, { [header.name]: this.options.tenants.b.id });
      const code = (response.json as { code?: unknown } | undefined)?.code;
      if (response.status !== header.status || (header.code !== undefined && code !== header.code)) {
        problems.push(`answered ${response.status} ${String(code)}, not ${header.status} ${header.code ?? ''}`.trim());
      }
      this.noneOfB(problems, response, [this.options.tenants.b.id]);
      if (write) {
        this.unchanged(problems, 'tenant A', before[0], await this.world(this.a));
        this.unchanged(problems, 'tenant B', before[1], await this.world(this.b));
      }
    });
  }

  /** A body reference to B's resource answers exactly like one to a random id, and writes nothing. */
  private async foreignReferences(operation: ApiOperation): Promise<void> {
    if (!operation.body?.properties) return;
    for (const [name, schema] of Object.entries(operation.body.properties)) {
      const collection = this.generator.catalogue.isReference(name, schema) ? this.generator.catalogue.forReference(name) : undefined;
      if (!collection) continue;
      const valid = await this.generator.request(operation, this.a, { fresh: true, optional: operation.body.required?.includes(name) ? 'none' : 'all' });
      const foreignId = (await this.generator.ensure(this.b, collection)).id;
      const randomId = randomUUID();
      await this.check('foreign-reference', operation, `${name} of tenant B`, async (problems) => {
        const before = [await this.world(this.a), await this.world(this.b)];
        const foreign = await this.generator.send({ ...valid, body: { ...(valid.body as object), [name]: foreignId } }, this.a);
        const random = await this.generator.send({ ...valid, body: { ...(valid.body as object), [name]: randomId } }, this.a);
        this.sameAnswer(problems, foreign, [foreignId], random, [randomId]);
        if (foreign.status < 400 || foreign.status >= 500) problems.push(`answered ${foreign.status}, not a 4xx`);
        this.unchanged(problems, 'tenant A', before[0], await this.world(this.a));
        this.unchanged(problems, 'tenant B', before[1], await this.world(this.b));
      });
    }
  }

  private async check(kind: CaseKind, operation: ApiOperation, description: string, body: (problems: string[]) => Promise<void>): Promise<void> {
    const problems: string[] = [];
    await body(problems);
    this.cases.push({ kind, operation: operation.key, description, problems });
  }

  private sameAnswer(problems: string[], foreign: ApiResponse, foreignIds: string[], random: ApiResponse, randomIds: string[]): void {
    const left = this.normalise(foreign, foreignIds);
    const right = this.normalise(random, randomIds);
    if (!equal(left, right)) problems.push(`B's id answers ${describe(left)} but a random id answers ${describe(right)}`);
  }

  private noneOfB(problems: string[], response: ApiResponse, sent: string[]): void {
    let text = response.text;
    for (const id of sent) text = text.split(id).join('');
    const leaked = this.idsOfB().filter((id) => text.includes(id));
    if (leaked.length) problems.push(`the response contains tenant B's ${leaked.map((id) => this.kindOf(id)).join(', ')}: ${response.text.slice(0, 300)}`);
  }

  private unchanged(problems: string[], who: string, before: string, after: string): void {
    if (before === after) return;
    // The first part that differs (one line per list or resource), not the world's first 400 characters.
    const was = before.split('\n');
    const now = after.split('\n');
    const differs = was.findIndex((line, i) => line !== now[i]);
    const at = differs < 0 ? was.length : differs;
    problems.push(`${who}'s data changed:\n      before ${(was[at] ?? '').slice(0, 600)}\n      after  ${(now[at] ?? '').slice(0, 600)}`);
  }

  private idsOfB(): string[] {
    return [this.options.tenants.b.id, ...this.generator.resources(this.b).map((resource) => resource.id)];
  }

  private kindOf(id: string): string {
    if (id === this.options.tenants.b.id) return 'tenant id';
    const resource = this.generator.resources(this.b).find((candidate) => candidate.id === id);
    return resource ? `${resource.collection} id` : 'id';
  }

  /**
   * What a tenant can see of its own data through the document: every included list (at its
   * largest page) and each tracked resource no list shows. Journals (the audit trail) are left out:
   * they record refused requests too, by design; they are still probed for B's ids like any list.
   */
  private async world(actor: Actor): Promise<string> {
    const parts: string[] = [];
    // Not the journal (it grows with every request) nor platform configuration (other suites'
    // operators change it for every tenant while this runs): neither is what a request may change.
    for (const list of this.operations.filter((operation) => operation.method === 'get' && !operation.pathParameters.length && !operation.journal && !operation.platformConfig)) {
      const query: Record<string, string> = {};
      for (const parameter of list.queryParameters) {
        if (LIMIT.test(parameter.name) && typeof parameter.schema.maximum === 'number') query[parameter.name] = String(parameter.schema.maximum);
      }
      const request: GeneratedRequest = { operation: list, pathValues: {}, query };
      parts.push(`${list.key}: ${this.normalise(await this.generator.send(request, actor), []).body}`);
    }
    const listed = new Set(this.generator.catalogue.collections.filter((collection) => collection.list && this.operations.includes(collection.list)).map((collection) => collection.path));
    for (const resource of this.generator.resources(actor)) {
      if (listed.has(resource.collection) || !resource.itemPath) continue;
      const response = await this.generator.client.send({ method: 'get', path: resource.itemPath, token: actor.token });
      parts.push(`GET ${resource.itemPath}: ${this.normalise(response, []).body}`);
    }
    return parts.join('\n');
  }
}

function equal(left: NormalisedResponse, right: NormalisedResponse): boolean {
  return left.status === right.status && left.contentType === right.contentType && left.body === right.body;
}

function describe(response: NormalisedResponse): string {
  return `${response.status} ${response.contentType} ${response.body.slice(0, 300)}`;
}
