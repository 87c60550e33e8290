import { definedOnly, PageQuery } from '@bulkhead/domain-kit';
import { TenantData } from '@bulkhead/tenancy';
import { Injectable } from '@nestjs/common';
import { ProjectNotFoundProblem } from '../projects.errors';
import { CreateProjectDto, UpdateProjectDto } from './project.dto';
import { Project } from './project.entity';

@Injectable()
export class ProjectsService {
  constructor(private readonly data: TenantData) {}

  create(input: CreateProjectDto): Promise<Project> {
    return this.data.transaction((tx) => tx.repository(Project).insert({ name: input.name, archived: false }));
  }

  async get(id: string): Promise<Project> {
    const found = await this.data.read(Project).findById(id);
    if (!found) throw new ProjectNotFoundProblem();
    return found;
  }

  list(query: PageQuery & { limit: number }): Promise<Project[]> {
    return this.data.read(Project).findPage({ after: query.after, limit: query.limit });
  }

  async update(id: string, patch: UpdateProjectDto): Promise<Project> {
    const updated = await this.data.transaction((tx) => tx.repository(Project).update(id, { ...definedOnly(patch), updatedAt: () => 'now()' }));
    if (!updated) throw new ProjectNotFoundProblem();
    return updated;
  }

  /** Its tasks go with it (the foreign key cascades, within the tenant). */
  async remove(id: string): Promise<void> {
    const deleted = await this.data.transaction((tx) => tx.repository(Project).delete(id));
    if (!deleted) throw new ProjectNotFoundProblem();
  }
}
