/** The initial schema (DESIGN §4 table names). Partial indexes keep the claim and reaper scans small. */
export const sql0001 = `
create table pool (
  name text primary key,
  slots integer not null check (slots >= 0),
  description text not null default ''
);
insert into pool (name, slots, description) values ('default_pool', 128, 'tasks without a pool');

create table dag (
  dag_id text primary key,
  fileloc text not null,
  is_paused boolean not null default false,
  is_active boolean not null default true,
  schedule text,
  timezone text not null default 'UTC',
  catchup boolean not null default false,
  max_active_runs integer not null default 16,
  max_active_tasks integer not null default 64,
  latest_version_id integer,
  next_dagrun timestamptz,
  next_dagrun_create_after timestamptz,
  last_parsed_at timestamptz not null default now()
);
create index dag_next_create_idx on dag (next_dagrun_create_after) where is_active and not is_paused;

create table dag_version (
  id serial primary key,
  dag_id text not null references dag (dag_id) on delete cascade,
  version_hash text not null,
  serialized jsonb not null,
  created_at timestamptz not null default now(),
  unique (dag_id, version_hash)
);

create table dag_run (
  id serial primary key,
  dag_id text not null references dag (dag_id) on delete cascade,
  run_id text not null,
  run_type text not null,
  state text not null check (state in ('queued', 'running', 'success', 'failed')),
  logical_date timestamptz not null,
  data_interval_start timestamptz not null,
  data_interval_end timestamptz not null,
  conf jsonb not null default '{}',
  dag_version_id integer not null references dag_version (id),
  queued_at timestamptz not null default now(),
  start_date timestamptz,
  end_date timestamptz,
  last_examined_at timestamptz,
  unique (dag_id, run_id)
);
-- Scheduled runs are unique per logical date, so two schedulers racing to create one cannot both win.
create unique index dag_run_scheduled_uniq on dag_run (dag_id, logical_date) where run_type in ('scheduled', 'backfill');
create index dag_run_active_idx on dag_run (dag_id, state) where state in ('queued', 'running');

create table task_instance (
  id serial primary key,
  dag_run_id integer not null references dag_run (id) on delete cascade,
  dag_id text not null,
  run_id text not null,
  task_id text not null,
  map_index integer not null default -1,
  state text check (state in ('scheduled', 'queued', 'running', 'success', 'failed', 'up_for_retry',
                              'upstream_failed', 'skipped', 'removed')),
  try_number integer not null default 0,
  max_tries integer not null,
  run_after timestamptz,
  pool text not null,
  pool_slots integer not null default 1,
  priority_weight integer not null default 1,
  claimed_by text,
  last_heartbeat_at timestamptz,
  start_date timestamptz,
  end_date timestamptz,
  executor_id text,
  reason text,
  updated_at timestamptz not null default now(),
  unique (dag_id, run_id, task_id, map_index)
);
create index ti_claim_idx on task_instance (priority_weight desc, id) where state = 'scheduled';
create index ti_occupying_idx on task_instance (pool, dag_id) where state in ('queued', 'running');
create index ti_run_idx on task_instance (dag_run_id);

create table task_attempt (
  id serial primary key,
  task_instance_id integer not null references task_instance (id) on delete cascade,
  try_number integer not null,
  state text not null,
  scheduler_id text not null,
  executor_id text,
  start_date timestamptz not null default now(),
  end_date timestamptz,
  reason text,
  log text not null default '',
  unique (task_instance_id, try_number)
);

create table xcom (
  task_instance_id integer primary key references task_instance (id) on delete cascade,
  dag_run_id integer not null,
  task_id text not null,
  map_index integer not null,
  value jsonb not null,
  size_bytes integer not null,
  created_at timestamptz not null default now()
);
create index xcom_run_idx on xcom (dag_run_id, task_id);

create table import_error (
  id serial primary key,
  filename text not null unique,
  line integer,
  message text not null,
  timestamp timestamptz not null default now()
);

create table dataset (
  id serial primary key,
  uri text not null unique,
  extra jsonb not null default '{}',
  created_at timestamptz not null default now()
);

create table dataset_event (
  id serial primary key,
  dataset_id integer not null references dataset (id),
  source_dag_id text,
  source_run_id text,
  source_task_id text,
  extra jsonb not null default '{}',
  timestamp timestamptz not null default now()
);

create table api_token (
  id serial primary key,
  name text not null unique,
  token_hash text not null,
  role text not null check (role in ('viewer', 'operator', 'admin')),
  created_at timestamptz not null default now()
);
`
