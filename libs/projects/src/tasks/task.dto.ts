import { PageQuery } from '@bulkhead/domain-kit';
import { IsOmittable } from '@bulkhead/openapi';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, IsString, IsUUID, Length, Max, Min } from 'class-validator';
import { Task } from './task.entity';

export class CreateTaskDto {
  @ApiProperty({ description: 'A project of the same tenant.', format: 'uuid' })
  @IsUUID()
  projectId!: string;

  @ApiProperty({ example: 'Draft the landing page' })
  @IsString()
  @Length(1, 200)
  title!: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 5, default: 3, example: 2 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(5)
  priority?: number;
}

export class UpdateTaskDto {
  @ApiPropertyOptional({ example: 'Draft the landing page copy' })
  @IsOmittable()
  @IsString()
  @Length(1, 200)
  title?: string;

  @ApiPropertyOptional()
  @IsOmittable()
  @IsBoolean()
  done?: boolean;

  @ApiPropertyOptional({ minimum: 1, maximum: 5, example: 1 })
  @IsOmittable()
  @IsInt()
  @Min(1)
  @Max(5)
  priority?: number;
}

export class ListTasksQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'Only tasks of this project.', format: 'uuid' })
  @IsOptional()
  @IsUUID()
  projectId?: string;
}

export class TaskView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) projectId!: string;
  @ApiProperty() title!: string;
  @ApiProperty() done!: boolean;
  @ApiProperty({ type: 'integer', minimum: 1, maximum: 5 }) priority!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;

  static of(task: Task): TaskView {
    return {
      id: task.id,
      projectId: task.projectId,
      title: task.title,
      done: task.done,
      priority: task.priority,
      createdAt: new Date(task.createdAt).toISOString(),
      updatedAt: new Date(task.updatedAt).toISOString(),
    };
  }
}

export class TaskPage {
  @ApiProperty({ type: [TaskView] }) items!: TaskView[];
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) next!: string | null;
}
