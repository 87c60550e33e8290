import { ApiProblem } from '@bulkhead/openapi';
import { pageOf, ParseIdPipe } from '@bulkhead/domain-kit';
import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { TaskNotFoundProblem, UnknownProjectReferenceProblem } from '../projects.errors';
import { CreateTaskDto, ListTasksQuery, TaskPage, TaskView, UpdateTaskDto } from './task.dto';
import { TasksService } from './tasks.service';

@ApiTags('projects')
@ApiBearerAuth()
@Controller('v1/tasks')
export class TasksController {
  constructor(private readonly tasks: TasksService) {}

  @Post()
  @ApiOperation({ summary: 'Create a task in a project of the same tenant' })
  @ApiCreatedResponse({ type: TaskView })
  @ApiProblem(UnknownProjectReferenceProblem)
  async create(@Body() body: CreateTaskDto): Promise<TaskView> {
    return TaskView.of(await this.tasks.create(body));
  }

  @Get()
  @ApiOperation({ summary: 'List tasks in creation order, optionally of one project (cursor pagination)' })
  @ApiOkResponse({ type: TaskPage })
  async list(@Query() query: ListTasksQuery): Promise<TaskPage> {
    const limit = query.limit ?? 20;
    return pageOf(await this.tasks.list({ ...query, limit }), limit, TaskView.of);
  }

  @Get(':id')
  @ApiOkResponse({ type: TaskView })
  @ApiProblem(TaskNotFoundProblem)
  async get(@Param('id', new ParseIdPipe()) id: string): Promise<TaskView> {
    return TaskView.of(await this.tasks.get(id));
  }

  @Patch(':id')
  @ApiOkResponse({ type: TaskView })
  @ApiProblem(TaskNotFoundProblem)
  async update(@Param('id', new ParseIdPipe()) id: string, @Body() body: UpdateTaskDto): Promise<TaskView> {
    return TaskView.of(await this.tasks.update(id, body));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiProblem(TaskNotFoundProblem)
  async remove(@Param('id', new ParseIdPipe()) id: string): Promise<void> {
    await this.tasks.remove(id);
  }
}
