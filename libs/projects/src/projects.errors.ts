import { ProblemError } from '@bulkhead/problem';

/** Same status and body whether the project is missing or belongs to another tenant. */
export class ProjectNotFoundProblem extends ProblemError {
  constructor() {
    super(404, 'project_not_found', 'Project not found', 'No project with that id exists.');
  }
}

export class TaskNotFoundProblem extends ProblemError {
  constructor() {
    super(404, 'task_not_found', 'Task not found', 'No task with that id exists.');
  }
}

/** A task naming a project this tenant does not have, whoever else might. */
export class UnknownProjectReferenceProblem extends ProblemError {
  constructor() {
    super(422, 'project_reference_unknown', 'Unknown project', 'projectId does not name an existing project.', {
      errors: [{ field: 'projectId', messages: ['projectId does not name an existing project'] }],
    });
  }
}
