/**
 * Chunks the store numbers itself (an executor's notes, a scheduler's closing line, a thread's output) take their
 * number from a counter on the attempt row, bumped by the insert's own statement: two writers at once wait on the
 * row and get numbers of their own, where "the highest number plus one" gave both the same. The counter starts
 * after the store-numbered chunks already written (numbered from 1000000000 up).
 */
export const sql0011 = `
alter table task_attempt add column log_appends integer not null default 0;
update task_attempt a set log_appends = s.n
  from (select attempt_id, max(seq) - 1000000000 as n from task_log_chunk where seq > 1000000000 group by attempt_id) s
  where s.attempt_id = a.id;
`
