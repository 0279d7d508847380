/**
 * Instances are looked up by (run, task) on every slot handoff and when decisions read a run's upstream results;
 * the run-only index made those scan every instance of the run (measured: 199 of 200 rows filtered per lookup).
 */
export const sql0003 = `
create index ti_run_task_idx on task_instance (dag_run_id, task_id, map_index);
drop index ti_run_idx;
`
