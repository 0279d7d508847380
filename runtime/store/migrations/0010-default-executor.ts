/**
 * A task instance that names no executor runs on its scheduler's default one (FORGE_DEFAULT_EXECUTOR): executor is
 * null then. Until now 'local' stood for "none named" (it was the only name), so unfinished instances that say
 * 'local' become null, and keep running wherever the one executor of their scheduler ran them.
 */
export const sql0010 = `
alter table task_instance alter column executor drop not null;
alter table task_instance alter column executor drop default;
update task_instance set executor = null
  where executor = 'local' and (state is null or state in ('scheduled', 'queued', 'running', 'up_for_retry'));
`
