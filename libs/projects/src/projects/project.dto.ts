import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOmittable } from '@bulkhead/openapi';
import { IsBoolean, IsString, Length } from 'class-validator';
import { Project } from './project.entity';

export class CreateProjectDto {
  @ApiProperty({ example: 'Website relaunch' })
  @IsString()
  @Length(1, 200)
  name!: string;
}

export class UpdateProjectDto {
  @ApiPropertyOptional({ example: 'Website relaunch (phase 2)' })
  @IsOmittable()
  @IsString()
  @Length(1, 200)
  name?: string;

  @ApiPropertyOptional()
  @IsOmittable()
  @IsBoolean()
  archived?: boolean;
}

export class ProjectView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() archived!: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;

  static of(project: Project): ProjectView {
    return {
      id: project.id,
      name: project.name,
      archived: project.archived,
      createdAt: new Date(project.createdAt).toISOString(),
      updatedAt: new Date(project.updatedAt).toISOString(),
    };
  }
}

export class ProjectPage {
  @ApiProperty({ type: [ProjectView] }) items!: ProjectView[];
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) next!: string | null;
}
