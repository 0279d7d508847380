/**
 * Which code a DAG version, a run and an attempt ran (runtime/README.md, "Code identity"): the digest of the DAG
 * file and the local modules it imports. Null on rows written before the digest existed.
 */
export const sql0006 = `
alter table dag_version add column code_digest text;
alter table dag_run add column code_digest text;
alter table task_attempt add column code_digest text;
`
