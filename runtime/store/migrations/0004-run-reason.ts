/**
 * Why a run is in its state, for people: a run that could not be decided (a map wider than the limit, params
 * that cannot be valid) records the cause here, where `forge runs list` shows it.
 */
export const sql0004 = `
alter table dag_run add column reason text;
`
