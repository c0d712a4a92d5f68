/** A datalist of `{{ $secrets.NAME }}` references to the secrets registrations may use (global ones). */
import { useApi } from '../app/context.ts';
import { useAsync } from '../app/use-async.ts';
import { secretRef } from '../editor/headers-text.ts';

export function SecretRefList({ id }: { id: string }) {
  const api = useApi();
  const secrets = useAsync(() => api.listSecrets().catch(() => ({ items: [], available: false })), [api]);
  const global = (secrets.data?.items ?? []).filter((s) => s.scope === 'global');
  return (
    <datalist id={id}>
      {global.map((s) => (
        <option key={s.name} value={secretRef(s.name)} />
      ))}
      {global.map((s) => (
        <option key={`b-${s.name}`} value={`Bearer ${secretRef(s.name)}`} />
      ))}
    </datalist>
  );
}
