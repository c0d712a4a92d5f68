/** The `?` overlay: every builder shortcut, from the same table the key handler uses. */
import { useEffect, useRef } from 'react';
import { CANVAS_KEYS, SHORTCUTS } from '../editor/shortcuts.ts';

export function ShortcutsOverlay({ onClose }: { onClose: () => void }) {
  const ref = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    ref.current?.focus();
    return () => before?.focus?.();
  }, []);
  return (
    <div className="overlay">
      <div className="overlay-box" role="dialog" aria-modal="true" aria-label="Keyboard shortcuts">
        <h2>
          Keyboard shortcuts
          <button ref={ref} type="button" className="ghost" onClick={onClose} aria-label="Close shortcuts">
            ×
          </button>
        </h2>
        <table className="table shortcuts">
          <tbody>
            {SHORTCUTS.map((s) => (
              <tr key={s.action}>
                <td>
                  <kbd>{s.keys}</kbd>
                </td>
                <td>{s.what}</td>
              </tr>
            ))}
            {CANVAS_KEYS.map((s) => (
              <tr key={s.keys}>
                <td>
                  <kbd>{s.keys}</kbd>
                </td>
                <td>{s.what}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="muted small">Ctrl is Cmd on macOS.</p>
      </div>
    </div>
  );
}
