/**
 * Data-aware scheduling: a dataset event may carry the version its producer recorded, unique per dataset so that
 * a producer run again (a retry, a clear) never records one version twice; a DAG scheduled on datasets keeps its
 * schedule and how far it has consumed the events; each dataset-triggered run remembers the events that started
 * it, which is also the lineage from a consumer run back to its producers.
 */
export const sql0008 = `
alter table dataset_event add column version text;
alter table dataset_event add column source_map_index integer;
create unique index dataset_event_version_uniq on dataset_event (dataset_id, version) where version is not null;
create index dataset_event_dataset_idx on dataset_event (dataset_id, id);
alter table dag add column dataset_schedule jsonb;
alter table dag add column last_dataset_event_id integer not null default 0;
create table dag_run_dataset_event (
  dag_run_id integer not null references dag_run (id) on delete cascade,
  dataset_event_id integer not null references dataset_event (id) on delete cascade,
  primary key (dag_run_id, dataset_event_id)
);
create index dag_run_dataset_event_event_idx on dag_run_dataset_event (dataset_event_id);
`
