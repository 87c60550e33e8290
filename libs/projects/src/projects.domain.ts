import { defineDomain } from '@bulkhead/domain-kit';
import { join } from 'node:path';
import { ProjectsModule } from './projects.module';
import { Project } from './projects/project.entity';
import { Task } from './tasks/task.entity';

/** The example second domain: registered by one line in `apps/domains.ts`. */
export const PROJECTS_DOMAIN = defineDomain({
  name: 'projects',
  module: ProjectsModule,
  entities: [Project, Task],
  migrations: join(__dirname, '..', 'migrations'),
});
