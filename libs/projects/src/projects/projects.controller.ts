import { ApiProblem } from '@bulkhead/openapi';
import { pageOf, PageQuery, ParseIdPipe } from '@bulkhead/domain-kit';
import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ProjectNotFoundProblem } from '../projects.errors';
import { CreateProjectDto, ProjectPage, ProjectView, UpdateProjectDto } from './project.dto';
import { ProjectsService } from './projects.service';

@ApiTags('projects')
@ApiBearerAuth()
@Controller('v1/projects')
export class ProjectsController {
  constructor(private readonly projects: ProjectsService) {}

  @Post()
  @ApiOperation({ summary: 'Create a project' })
  @ApiCreatedResponse({ type: ProjectView })
  async create(@Body() body: CreateProjectDto): Promise<ProjectView> {
    return ProjectView.of(await this.projects.create(body));
  }

  @Get()
  @ApiOperation({ summary: 'List projects in creation order (cursor pagination)' })
  @ApiOkResponse({ type: ProjectPage })
  async list(@Query() query: PageQuery): Promise<ProjectPage> {
    const limit = query.limit ?? 20;
    return pageOf(await this.projects.list({ ...query, limit }), limit, ProjectView.of);
  }

  @Get(':id')
  @ApiOkResponse({ type: ProjectView })
  @ApiProblem(ProjectNotFoundProblem)
  async get(@Param('id', new ParseIdPipe()) id: string): Promise<ProjectView> {
    return ProjectView.of(await this.projects.get(id));
  }

  @Patch(':id')
  @ApiOkResponse({ type: ProjectView })
  @ApiProblem(ProjectNotFoundProblem)
  async update(@Param('id', new ParseIdPipe()) id: string, @Body() body: UpdateProjectDto): Promise<ProjectView> {
    return ProjectView.of(await this.projects.update(id, body));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiProblem(ProjectNotFoundProblem)
  @ApiOperation({ summary: 'Delete a project and its tasks' })
  async remove(@Param('id', new ParseIdPipe()) id: string): Promise<void> {
    await this.projects.remove(id);
  }
}
