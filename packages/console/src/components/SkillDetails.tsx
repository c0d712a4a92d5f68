/** An agent skill described: what it does, example prompts, tags, and the media types it takes and gives. */

import type { Agent } from '../api/types.ts';
import { skillDetails } from '../app/agent-skills.ts';

export function SkillDetails({ agent, skillId, compact }: { agent: Agent; skillId: string | undefined; compact?: boolean }) {
  const skill = skillId === undefined ? undefined : agent.skills.find((s) => s.id === skillId);
  if (!skill) {
    if (!compact) return null;
    return (
      <p className="muted small">
        {skillId ? `${agent.name} has no skill '${skillId}'.` : `Pick one of ${agent.name}'s ${agent.skills.length} skill(s).`}
      </p>
    );
  }
  const d = skillDetails(agent, skill);
  return (
    <section className="skill-details" aria-label={`Skill ${d.name}`}>
      {compact && (
        <p className="small">
          <strong>{d.name}</strong>
        </p>
      )}
      {d.description && <p className="small">{d.description}</p>}
      {(d.inputModes.length > 0 || d.outputModes.length > 0) && (
        <p className="small">
          <span className="muted">Takes </span>
          {d.inputModes.length > 0 ? d.inputModes.map((m) => <code key={m}>{m}</code>) : <span className="muted">text</span>}
          <span className="muted"> · gives </span>
          {d.outputModes.length > 0 ? d.outputModes.map((m) => <code key={m}>{m}</code>) : <span className="muted">text</span>}
        </p>
      )}
      {d.tags.length > 0 && (
        <p className="small tags">
          {d.tags.map((t) => (
            <span key={t} className="tag">
              {t}
            </span>
          ))}
        </p>
      )}
      {d.examples.length > 0 && (
        <details open={!compact}>
          <summary className="small">Examples ({d.examples.length})</summary>
          <ul className="small examples">
            {d.examples.map((e) => (
              <li key={e}>
                <q>{e}</q>
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}
