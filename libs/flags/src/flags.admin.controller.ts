import { TenantErasedProblem } from '@bulkhead/control-plane';
import { ParseIdPipe } from '@bulkhead/domain-kit';
import { OperatorOnly } from '@bulkhead/identity';
import { ApiProblem } from '@bulkhead/openapi';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { FlagCatalogue } from './flag-catalogue';
import { CreateFlagDto, definitionOf, FlagDefinitionDto, FlagListView, FlagOverrideDto, FlagView } from './flag.dto';
import { FlagStore } from './flag.store';
import { FlagExistsProblem, FlagNotFoundProblem, FlagTenantNotFoundProblem } from './flags.errors';

/**
 * Operators set flags: every write lands in the table, then every instance reloads its catalogue
 * at once (this one before answering, so the next read here sees it).
 */
@ApiTags('admin')
@ApiBearerAuth()
@OperatorOnly()
@Controller('v1/admin/flags')
export class FlagsAdminController {
  constructor(
    private readonly store: FlagStore,
    private readonly catalogue: FlagCatalogue,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create a flag: default, tier values, percentage rollout' })
  @ApiCreatedResponse({ type: FlagView })
  @ApiProblem(FlagExistsProblem)
  async create(@Body() body: CreateFlagDto): Promise<FlagView> {
    const id = await this.store.create(body.key, definitionOf(body));
    if (id === undefined) throw new FlagExistsProblem();
    await this.catalogue.changed();
    return this.view(id);
  }

  @Get()
  @ApiOperation({ summary: 'Every flag with its tier values, rollout and tenant overrides' })
  @ApiOkResponse({ type: FlagListView })
  list(): FlagListView {
    return { items: [...this.catalogue.all()].map(FlagView.of) };
  }

  @Get(':id')
  @ApiOkResponse({ type: FlagView })
  @ApiProblem(FlagNotFoundProblem)
  get(@Param('id', new ParseIdPipe()) id: string): FlagView {
    return this.view(id);
  }

  @Put(':id')
  @ApiOperation({ summary: "Replace a flag's definition (its tenant overrides are kept)" })
  @ApiOkResponse({ type: FlagView })
  @ApiProblem(FlagNotFoundProblem)
  async replace(@Param('id', new ParseIdPipe()) id: string, @Body() body: FlagDefinitionDto): Promise<FlagView> {
    if (!(await this.store.replace(id, definitionOf(body)))) throw new FlagNotFoundProblem();
    await this.catalogue.changed();
    return this.view(id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiProblem(FlagNotFoundProblem)
  async remove(@Param('id', new ParseIdPipe()) id: string): Promise<void> {
    if (!(await this.store.remove(id))) throw new FlagNotFoundProblem();
    await this.catalogue.changed();
  }

  @Put(':id/tenants/:tenantId')
  @ApiOperation({ summary: "Set one tenant's value of a flag, over its tier, the rollout and the default" })
  @ApiOkResponse({ type: FlagView })
  @ApiProblem(FlagNotFoundProblem)
  @ApiProblem(FlagTenantNotFoundProblem)
  @ApiProblem(new TenantErasedProblem())
  async override(@Param('id', new ParseIdPipe()) id: string, @Param('tenantId', new ParseIdPipe()) tenantId: string, @Body() body: FlagOverrideDto): Promise<FlagView> {
    const outcome = await this.store.override(id, tenantId, body.value);
    if (outcome === 'flag') throw new FlagNotFoundProblem();
    if (outcome === 'tenant') throw new FlagTenantNotFoundProblem();
    if (outcome === 'erased') throw new TenantErasedProblem();
    await this.catalogue.changed();
    return this.view(id);
  }

  @Delete(':id/tenants/:tenantId')
  @HttpCode(204)
  @ApiOperation({ summary: "Remove a tenant's override (none is fine)" })
  @ApiNoContentResponse()
  @ApiProblem(FlagNotFoundProblem)
  async removeOverride(@Param('id', new ParseIdPipe()) id: string, @Param('tenantId', new ParseIdPipe()) tenantId: string): Promise<void> {
    if (!(await this.store.removeOverride(id, tenantId))) throw new FlagNotFoundProblem();
    await this.catalogue.changed();
  }

  private view(id: string): FlagView {
    const rule = this.catalogue.byId(id);
    if (!rule) throw new FlagNotFoundProblem();
    return FlagView.of(rule);
  }
}
