-- Projects and their tasks: a parent/child pair. Unqualified, so it applies to the pool, to each
-- tenant schema and to each silo alike.

CREATE TABLE projects (
  tenant_id   uuid        NOT NULL,
  id          uuid        NOT NULL,
  name        text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  archived    boolean     NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT projects_pkey PRIMARY KEY (tenant_id, id)
);

CREATE TABLE tasks (
  tenant_id   uuid        NOT NULL,
  id          uuid        NOT NULL,
  project_id  uuid        NOT NULL,
  title       text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
  done        boolean     NOT NULL DEFAULT false,
  priority    smallint    NOT NULL DEFAULT 3 CHECK (priority BETWEEN 1 AND 5),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT tasks_pkey PRIMARY KEY (tenant_id, id),
  -- Composite, so a task can only ever belong to a project of its own tenant.
  CONSTRAINT tasks_project_fkey FOREIGN KEY (tenant_id, project_id)
    REFERENCES projects (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX tasks_tenant_project_idx ON tasks (tenant_id, project_id, id);

SELECT bulkhead_protect_tenant_table('projects');
SELECT bulkhead_protect_tenant_table('tasks');

GRANT SELECT, INSERT, UPDATE, DELETE ON projects, tasks TO :runtime_role;
