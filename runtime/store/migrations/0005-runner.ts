/**
 * The task runner records its own attempt (runtime/worker/run-attempt.ts): which runner holds it and when it last
 * heartbeated (with the details a retry resumes from), the failure class of an unsuccessful attempt, the datasets
 * it produced, and its log as numbered chunks, so that a growing log is appended, never rewritten. Infrastructure
 * failures spend a budget of their own on the instance, never the task's retries.
 */
export const sql0005 = `
alter table task_attempt add column failure_class text check (failure_class in ('task', 'infrastructure'));
alter table task_attempt add column runner_id text;
alter table task_attempt add column last_heartbeat_at timestamptz;
alter table task_attempt add column heartbeat_details jsonb;
alter table task_attempt add column outlets jsonb;
create table task_log_chunk (
  attempt_id integer not null references task_attempt (id) on delete cascade,
  seq integer not null,
  text text not null,
  created_at timestamptz not null default now(),
  primary key (attempt_id, seq)
);
alter table task_instance add column infra_failures integer not null default 0;
alter table task_instance add column max_infra_retries integer not null default 3;
`
