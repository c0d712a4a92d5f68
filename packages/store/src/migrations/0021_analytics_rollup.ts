import type { Kysely } from 'kysely';

/**
 * Superseded by 0021_analytics_rollup_2 (one rollup table, one trigger statement per finishing
 * run). Kept, empty, because databases that ran its first form record its name; 0021_analytics_rollup_2
 * removes what that form created.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against any database shape
export async function up(_db: Kysely<any>): Promise<void> {}
