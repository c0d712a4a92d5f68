/**
 * Workflow names are not unique (two people may both have a "hotel-search", a duplicate keeps
 * the name until it is renamed), so wherever workflows are listed, a name shared by several of
 * them carries what tells them apart: the owner when the owners differ, and always the start of
 * the id. Unique names carry nothing extra.
 */
export interface NamedWorkflow {
  id: string;
  name: string;
  owner?: string | undefined;
}

/** id → the text that disambiguates it (only for names that occur more than once). */
export function disambiguators(items: readonly NamedWorkflow[]): Map<string, string> {
  const byName = new Map<string, NamedWorkflow[]>();
  for (const w of items) byName.set(w.name, [...(byName.get(w.name) ?? []), w]);
  const out = new Map<string, string>();
  for (const same of byName.values()) {
    if (same.length < 2) continue;
    const owners = new Set(same.map((w) => w.owner ?? ''));
    for (const w of same) {
      const id = w.id.length > 8 ? `${w.id.slice(0, 8)}…` : w.id;
      out.set(w.id, owners.size > 1 && w.owner ? `${w.owner} · ${id}` : id);
    }
  }
  return out;
}

/** `name` when no workflow has it, else `name-2`, `name-3`… (the first free), so two uses of a template never make two identical rows. */
export function uniqueName(name: string, taken: Iterable<string>): string {
  const set = new Set(taken);
  if (!set.has(name)) return name;
  const m = /^(.*?)-(\d+)$/.exec(name);
  const stem = m ? m[1]! : name;
  for (let i = m ? Number(m[2]) + 1 : 2; ; i++) {
    const next = `${stem}-${i}`;
    if (!set.has(next)) return next;
  }
}
