/**
 * What the builder says under a JSONata field: the syntax error once, with its position marked
 * in a copy of the text; else bare names that read nothing (`tru`: did you mean `true`?); else
 * "Syntax OK". The same checks as the compiler (the core's parser and bare-name check).
 */
import type { EditorDoc } from '../editor/doc.ts';
import { expressionSyntaxProblem, unknownNames } from '../editor/validate.ts';

/** The source with the character at `at` marked (a space is shown as ␣ so the end of the text can be marked). */
export function MarkedSource({ source, at, length = 1 }: { source: string; at: number; length?: number }) {
  const i = Math.max(0, Math.min(at, source.length));
  const end = Math.min(source.length, i + Math.max(1, length));
  const marked = source.slice(i, end);
  return (
    <code className="marked-source" data-mark-at={i}>
      {source.slice(0, i)}
      <mark>{marked === '' || marked === ' ' ? '␣' : marked}</mark>
      {source.slice(end)}
    </code>
  );
}

export function ExpressionCheck({ source, doc, okText = 'Syntax OK' }: { source: string; doc: EditorDoc; okText?: string }) {
  if (source.trim() === '') return null;
  const syntax = expressionSyntaxProblem(source);
  if (syntax) {
    // JSONata's position is the offset just after the token it stopped at.
    const at = syntax.position === undefined ? undefined : Math.max(0, syntax.position - 1);
    return (
      <span className="field-error expr-check" role="alert">
        Syntax: {syntax.message}
        {at !== undefined && (
          <>
            {' '}
            (at character {syntax.position}): <MarkedSource source={source} at={at} />
          </>
        )}
      </span>
    );
  }
  const unknown = unknownNames(source, doc);
  if (unknown.length > 0) {
    return (
      <span className="field-warning expr-check" role="status">
        {unknown.map((u) => (
          <span key={`${u.name}:${u.start}`} className="block">
            '{u.name}' is not a value or a variable (it reads nothing, so it is always undefined)
            {u.suggestion ? `; did you mean ${u.suggestion}?` : "; write $name for a node's output or quote a string"}{' '}
            <MarkedSource source={source} at={u.start} length={u.name.length} />
          </span>
        ))}
      </span>
    );
  }
  return <span className="muted small">{okText}</span>;
}
