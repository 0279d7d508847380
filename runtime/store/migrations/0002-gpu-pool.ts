/**
 * The `gpu` pool the CARLA DAGs use: one slot per simulation that may run at once. Two by default (what a
 * 2-core machine sustains with carla-lite); set it to the number of GPUs with `forge pools set gpu N`.
 */
export const sql0002 = `
insert into pool (name, slots, description) values ('gpu', 2, 'CARLA simulation shards; one slot per GPU')
on conflict (name) do nothing;
`
