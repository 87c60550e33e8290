export { PROJECTS_DOMAIN } from './projects.domain';
export { ProjectsService } from './projects/projects.service';
export { TasksService } from './tasks/tasks.service';
export { Project } from './projects/project.entity';
export { Task } from './tasks/task.entity';
export * from './projects.errors';
