import { definedOnly } from '@bulkhead/domain-kit';
import { isForeignKeyViolation, TenantData } from '@bulkhead/tenancy';
import { Injectable } from '@nestjs/common';
import { Project } from '../projects/project.entity';
import { TaskNotFoundProblem, UnknownProjectReferenceProblem } from '../projects.errors';
import { CreateTaskDto, ListTasksQuery, UpdateTaskDto } from './task.dto';
import { Task } from './task.entity';

@Injectable()
export class TasksService {
  constructor(private readonly data: TenantData) {}

  /**
   * The project is looked up through the scoped repository first, so another tenant's project and
   * a random id fail the same way; the composite foreign key catches a concurrent delete.
   */
  async create(input: CreateTaskDto): Promise<Task> {
    try {
      return await this.data.transaction(async (tx) => {
        const project = await tx.repository(Project).findById(input.projectId);
        if (!project) throw new UnknownProjectReferenceProblem();
        return tx.repository(Task).insert({ projectId: project.id, title: input.title, done: false, priority: input.priority ?? 3 });
      });
    } catch (error) {
      if (isForeignKeyViolation(error, 'tasks_project_fkey')) throw new UnknownProjectReferenceProblem();
      throw error;
    }
  }

  async get(id: string): Promise<Task> {
    const found = await this.data.read(Task).findById(id);
    if (!found) throw new TaskNotFoundProblem();
    return found;
  }

  list(query: ListTasksQuery & { limit: number }): Promise<Task[]> {
    return this.data.read(Task).findPage({ where: query.projectId ? { projectId: query.projectId } : {}, after: query.after, limit: query.limit });
  }

  async update(id: string, patch: UpdateTaskDto): Promise<Task> {
    const updated = await this.data.transaction((tx) => tx.repository(Task).update(id, { ...definedOnly(patch), updatedAt: () => 'now()' }));
    if (!updated) throw new TaskNotFoundProblem();
    return updated;
  }

  async remove(id: string): Promise<void> {
    const deleted = await this.data.transaction((tx) => tx.repository(Task).delete(id));
    if (!deleted) throw new TaskNotFoundProblem();
  }
}
