/**
 * `trellis_node_duration_seconds{type}`: the durations of finished node attempts by node type,
 * read from the database at scrape time. An attempt row names its run and node, not the node's
 * type: the scrape groups attempts by (workflow, version, node) and their duration bucket in SQL,
 * then maps each node to its type through the run's workflow version (versions never change, so
 * their node → type maps are cached). The `type` label is one of the node types (a closed union)
 * or `unknown` (a version that cannot be read), so the series count is bounded whatever the
 * workflows hold. A map's items (`<map>[<i>]`) are counted under their body's type (`do.type`):
 * that is the work each item did.
 */
import { NODE_TYPES } from '@trellis/core';
import type { Database } from '@trellis/store';
import { type Kysely, PostgresAdapter, sql } from 'kysely';

export const NODE_DURATION_BUCKETS_S = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800];

const NODE_TYPE_SET: ReadonlySet<string> = new Set(NODE_TYPES);
/** Label values: the node types, then `unknown`. */
const TYPE_LABELS = [...NODE_TYPES, 'unknown'] as const;

/** node id → node type, per `workflow\0version`; bounded (oldest entry evicted first). */
const typeMaps = new Map<string, ReadonlyMap<string, string>>();
const MAX_CACHED_VERSIONS = 2000;

function typesOf(definition: string): Map<string, string> {
  const types = new Map<string, string>();
  try {
    const def = JSON.parse(definition) as { nodes?: { id?: unknown; type?: unknown; do?: { type?: unknown } }[] };
    for (const n of def.nodes ?? []) {
      if (typeof n.id !== 'string' || typeof n.type !== 'string') continue;
      types.set(n.id, n.type);
      // Items of a map: `<id>[` prefix → the body's type.
      if (n.type === 'map' && typeof n.do?.type === 'string') types.set(`${n.id}[`, n.do.type);
    }
  } catch {
    // An unreadable definition: its nodes count as `unknown`.
  }
  return types;
}

async function versionTypes(
  db: Kysely<Database>,
  keys: readonly { wf: string; v: number }[],
): Promise<Map<string, ReadonlyMap<string, string>>> {
  const out = new Map<string, ReadonlyMap<string, string>>();
  const missing: { wf: string; v: number }[] = [];
  for (const k of keys) {
    const key = `${k.wf}\0${k.v}`;
    const hit = typeMaps.get(key);
    if (hit) out.set(key, hit);
    else missing.push(k);
  }
  for (let i = 0; i < missing.length; i += 200) {
    const chunk = missing.slice(i, i + 200);
    const rows = await db
      .selectFrom('workflow_versions')
      .select(['workflow_id', 'version', 'definition'])
      .where((eb) => eb.or(chunk.map((k) => eb.and([eb('workflow_id', '=', k.wf), eb('version', '=', k.v)]))))
      .execute();
    for (const r of rows) {
      const key = `${r.workflow_id}\0${Number(r.version)}`;
      const types = typesOf(r.definition);
      out.set(key, types);
      if (typeMaps.size >= MAX_CACHED_VERSIONS) typeMaps.delete(typeMaps.keys().next().value as string);
      typeMaps.set(key, types);
    }
  }
  return out;
}

/** The node type of an attempt's node (`<map>[<i>]` items: the map body's type). */
function typeOf(types: ReadonlyMap<string, string> | undefined, nodeId: string): string {
  const bracket = nodeId.indexOf('[');
  const t = bracket < 0 ? types?.get(nodeId) : types?.get(`${nodeId.slice(0, bracket)}[`);
  return t !== undefined && NODE_TYPE_SET.has(t) ? t : 'unknown';
}

export async function nodeDurationSeries(db: Kysely<Database>): Promise<string[]> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const secs = pg
    ? sql<number>`extract(epoch from (a.finished_at::timestamptz - a.started_at::timestamptz))`
    : sql<number>`(julianday(a.finished_at) - julianday(a.started_at)) * 86400.0`;
  // A map item's id without its index, so a map's items are one group.
  const node = pg
    ? sql<string>`case when strpos(a.node_id, '[') > 0 then split_part(a.node_id, '[', 1) || '[0]' else a.node_id end`
    : sql<string>`case when instr(a.node_id, '[') > 0 then substr(a.node_id, 1, instr(a.node_id, '[') - 1) || '[0]' else a.node_id end`;
  const cols = NODE_DURATION_BUCKETS_S.map((b, i) =>
    sql<number>`sum(case when ${secs} <= ${sql.lit(b)} then 1 else 0 end)`.as(`b${i}`),
  );
  const rows = (await db
    .selectFrom('attempts as a')
    .innerJoin('runs as r', 'r.id', 'a.run_id')
    .select([
      'r.workflow_id as wf',
      'r.version as v',
      node.as('node'),
      ...cols,
      sql<number>`count(*)`.as('n'),
      sql<number>`coalesce(sum(${secs}), 0)`.as('total'),
    ])
    .where('a.finished_at', 'is not', null)
    .groupBy(['r.workflow_id', 'r.version', node])
    .execute()) as unknown as (Record<string, number | null> & { wf: string; v: number; node: string })[];

  const versions = new Map<string, { wf: string; v: number }>();
  for (const r of rows) versions.set(`${r.wf}\0${Number(r.v)}`, { wf: r.wf, v: Number(r.v) });
  const types = await versionTypes(db, [...versions.values()]);

  type H = { counts: number[]; n: number; total: number };
  const byType = new Map<string, H>();
  for (const r of rows) {
    const type = typeOf(types.get(`${r.wf}\0${Number(r.v)}`), r.node);
    let h = byType.get(type);
    if (!h) {
      h = { counts: NODE_DURATION_BUCKETS_S.map(() => 0), n: 0, total: 0 };
      byType.set(type, h);
    }
    NODE_DURATION_BUCKETS_S.forEach((_, i) => {
      h.counts[i] = (h.counts[i] ?? 0) + Number(r[`b${i}`] ?? 0);
    });
    h.n += Number(r.n ?? 0);
    h.total += Number(r.total ?? 0);
  }

  const out = [
    '# HELP trellis_node_duration_seconds Duration of finished node attempts by node type (map items under their body type).',
    '# TYPE trellis_node_duration_seconds histogram',
  ];
  for (const type of TYPE_LABELS) {
    const h = byType.get(type);
    if (!h) continue;
    NODE_DURATION_BUCKETS_S.forEach((b, i) => {
      out.push(`trellis_node_duration_seconds_bucket{type="${type}",le="${b}"} ${h.counts[i] ?? 0}`);
    });
    out.push(`trellis_node_duration_seconds_bucket{type="${type}",le="+Inf"} ${h.n}`);
    out.push(`trellis_node_duration_seconds_sum{type="${type}"} ${h.total}`);
    out.push(`trellis_node_duration_seconds_count{type="${type}"} ${h.n}`);
  }
  return out;
}
