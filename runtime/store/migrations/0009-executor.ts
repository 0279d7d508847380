/**
 * Which executor runs each task instance, and that task's settings for it (copied from the serialized task when
 * the instance is created), so that an executor finds its own attempts without reading DAG versions.
 */
export const sql0009 = `
alter table task_instance add column executor text not null default 'local';
alter table task_instance add column executor_config jsonb not null default '{}';
`
