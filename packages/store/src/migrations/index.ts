import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001_initial.ts';
import * as m0002 from './0002_server.ts';
import * as m0003 from './0003_postgres.ts';
import * as m0004 from './0004_commit_function.ts';
import * as m0005 from './0005_quarantine.ts';
import * as m0008 from './0008_map_workflow.ts';
import * as m0009 from './0009_retry.ts';
import * as m0010 from './0010_secrets.ts';
import * as m0011 from './0011_sign_in_codes.ts';
import * as m0012 from './0012_triggers.ts';
import * as m0014 from './0014_tool_server_sessions.ts';
import * as m0015 from './0015_observability.ts';
import * as m0016 from './0016_scratch_runs.ts';
import * as m0017 from './0017_step_cost.ts';
import * as m0018 from './0018_lease_lost.ts';
import * as m0019 from './0019_commit_path.ts';
import * as m0021 from './0021_analytics_rollup.ts';
import * as m0021b from './0021_analytics_rollup_2.ts';
import * as m0023 from './0023_a2a_tasks.ts';
import * as m0024 from './0024_shaped_commit.ts';
import * as m0025 from './0025_run_shapes.ts';
import * as m0026 from './0026_new_runs_index.ts';

/**
 * Every migration, in order. Listed statically (not read from a folder) so the set is fixed at
 * build time and identical on every machine.
 */
export const MIGRATIONS: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_server': m0002,
  '0003_postgres': m0003,
  '0004_commit_function': m0004,
  '0005_quarantine': m0005,
  '0008_map_workflow': m0008,
  '0009_retry': m0009,
  '0010_secrets': m0010,
  '0011_sign_in_codes': m0011,
  '0012_triggers': m0012,
  '0014_tool_server_sessions': m0014,
  '0015_observability': m0015,
  '0016_scratch_runs': m0016,
  '0017_step_cost': m0017,
  '0018_lease_lost': m0018,
  '0019_commit_path': m0019,
  '0021_analytics_rollup': m0021,
  '0021_analytics_rollup_2': m0021b,
  '0023_a2a_tasks': m0023,
  '0024_shaped_commit': m0024,
  '0025_run_shapes': m0025,
  '0026_new_runs_index': m0026,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
