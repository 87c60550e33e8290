import { clearPrivateJobQueue } from './support/private-job-queue';
import { buildOpenApiDocument } from '@bulkhead/openapi';
import { assertIsolated, IsolationKitError, IsolationReport, operationsOf, runIsolationMatrix } from '@bulkhead/testing';
import { BulkheadConfig, IsolationModel } from '@bulkhead/config';
import { TenantRecord } from '@bulkhead/control-plane';
import { Body, Controller, Get, NotFoundException, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiProperty, OpenAPIObject } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import { IsString, Length } from 'class-validator';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { ApiModule } from '../apps/api/src/api.module';
import { createHttpApp } from '../apps/api/src/http.setup';
import { createTenant, startTestApi, TestApi, tokenFor } from './support/test-app';

// Signup is public (no tenant yet): test/lifecycle-onboarding.spec.ts covers it.
const tenantRoute = (path: string) => path.startsWith('/v1/') && !path.startsWith('/v1/admin/') && !path.startsWith('/v1/signup');

/** A and B in the same model, and across models (a leak across placements would not show within one). */
const PAIRS: Array<[IsolationModel, IsolationModel]> = [
  ['pool', 'pool'],
  ['schema', 'schema'],
  ['silo', 'silo'],
  ['pool', 'silo'],
];

/**
 * Bulkhead's own routes through the isolation kit users run on theirs: every tenant operation
 * of the document, found by walking it, so a new route is covered without editing this file.
 */
describe('isolation kit over the whole API', () => {
  let api: TestApi;
  let document: OpenAPIObject;

  beforeAll(async () => {
    await clearPrivateJobQueue();
    api = await startTestApi();
    document = buildOpenApiDocument(api.app);
  });
  afterAll(async () => {
    await api?.close();
    await clearPrivateJobQueue();
  });

  it.each(PAIRS)('A in %s, B in %s: no tenant operation leaks', async (modelA, modelB) => {
    const [a, b] = await Promise.all([createTenant(api, { isolation: modelA }), createTenant(api, { isolation: modelB })]);
    const report = await runIsolationMatrix({ server: api.server, document, tenants: { a: tenantOf(api, a), b: tenantOf(api, b) }, include: tenantRoute });

    const expected = operationsOf(document).filter((operation) => tenantRoute(operation.path));
    expect(report.operations.map((entry) => entry.key).sort()).toEqual(expected.map((operation) => operation.key).sort());
    expect(report.routes).toBe(expected.length);
    const items = expected.filter((operation) => operation.pathParameters.length).length;
    const lists = expected.filter((operation) => operation.method === 'get' && !operation.pathParameters.length).length;
    expect(report.casesByKind['foreign-id']).toBe(items);
    expect(report.casesByKind.list).toBe(lists);
    expect(report.casesByKind['header-tenant']).toBe(expected.length);
    expect(report.casesByKind['query-tenant']).toBe(expected.length * 2);
    expect(report.casesByKind['foreign-reference']).toBeGreaterThanOrEqual(1);
    const writes = expected.filter((operation) => operation.method !== 'get').length;
    expect(report.casesByKind['body-tenant']).toBe(writes * 2);
    expect(report.casesByKind['list-filter']).toBeGreaterThan(lists);
    // Every operation gets the header case, both query cases, and its item, list or body cases.
    expect(Math.min(...report.operations.map((entry) => entry.cases))).toBeGreaterThanOrEqual(4);
    assertIsolated(report);
  });

  it('fails the run loudly on a route it cannot exercise', async () => {
    const [a, b] = await Promise.all([createTenant(api), createTenant(api)]);
    const widened = structuredClone(document);
    widened.paths['/v1/widgets/{widgetId}'] = {
      get: { parameters: [{ name: 'widgetId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }], responses: { '200': { description: '' } }, security: [{ bearer: [] }] },
    };
    await expect(runIsolationMatrix({ server: api.server, document: widened, tenants: { a: tenantOf(api, a), b: tenantOf(api, b) }, include: tenantRoute })).rejects.toThrow(
      IsolationKitError,
    );
  });

  it('catches a route that leaks', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [ApiModule], controllers: [LeakyNotesController] })
      .overrideProvider(BulkheadConfig)
      .useValue(api.config)
      .compile();
    const app = await createHttpApp(moduleRef, api.config, { docs: false });
    try {
      const [a, b] = await Promise.all([createTenant(api), createTenant(api)]);
      const report: IsolationReport = await runIsolationMatrix({
        server: app.getHttpServer() as Server,
        document: buildOpenApiDocument(app),
        tenants: { a: tenantOf(api, a), b: tenantOf(api, b) },
        include: (path) => path.startsWith('/v1/notes'),
      });
      const failed = new Set(report.failures.map((failure) => `${failure.kind} ${failure.operation}`));
      expect([...failed]).toEqual(expect.arrayContaining(['foreign-id GET /v1/notes/{id}', 'list GET /v1/notes']));
      expect(() => assertIsolated(report)).toThrow(/tenant B/);
    } finally {
      await app.close();
    }
  });
});

function tenantOf(api: TestApi, tenant: TenantRecord) {
  return { id: tenant.id, token: tokenFor(api, tenant) };
}

class CreateNoteDto {
  @ApiProperty({ example: 'remember the milk' })
  @IsString()
  @Length(1, 200)
  text!: string;
}

class NoteView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() text!: string;
}

class NotePage {
  @ApiProperty({ type: [NoteView] }) items!: NoteView[];
}

/** Deliberately wrong: one store for every tenant, so the kit has something to find. */
@ApiBearerAuth()
@Controller('v1/notes')
class LeakyNotesController {
  private readonly notes = new Map<string, NoteView>();

  @Post()
  @ApiCreatedResponse({ type: NoteView })
  create(@Body() body: CreateNoteDto): NoteView {
    const note = { id: randomUUID(), text: body.text };
    this.notes.set(note.id, note);
    return note;
  }

  @Get()
  @ApiOkResponse({ type: NotePage })
  list(): NotePage {
    return { items: [...this.notes.values()] };
  }

  @Get(':id')
  @ApiOkResponse({ type: NoteView })
  get(@Param('id', new ParseUUIDPipe()) id: string): NoteView {
    const note = this.notes.get(id);
    if (!note) throw new NotFoundException();
    return note;
  }
}
