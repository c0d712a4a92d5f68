/** The frame of every signed-in page: navigation, sign-out, the page. */
import type { ReactNode } from 'react';
import { navigate } from '../app/navigation.ts';
import { nextTheme, setTheme, useTheme } from '../app/theme.ts';

const LINKS = [
  { path: '/workflows', label: 'Workflows' },
  { path: '/runs', label: 'Runs' },
  { path: '/templates', label: 'Templates' },
  { path: '/agents', label: 'Agents' },
  { path: '/tools', label: 'Tools' },
  { path: '/secrets', label: 'Secrets' },
] as const;

export function Link({ to, children, className }: { to: string; children: ReactNode; className?: string }) {
  return (
    <a
      href={to}
      className={className}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

export function Layout({
  pathname,
  onSignOut,
  full,
  children,
}: {
  pathname: string;
  onSignOut: () => void;
  full: boolean;
  children: ReactNode;
}) {
  return (
    <div className="app">
      <header className="topbar">
        <Link to="/workflows" className="brand">
          Trellis
        </Link>
        <nav aria-label="Main">
          {LINKS.map((l) => (
            <Link key={l.path} to={l.path} className={pathname.startsWith(l.path) ? 'active' : undefined}>
              {l.label}
            </Link>
          ))}
        </nav>
        <ThemeToggle />
        <button type="button" className="ghost" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main className={full ? 'page full' : 'page'}>{children}</main>
    </div>
  );
}

const THEME_LABEL = { system: 'Theme: system', dark: 'Theme: dark', light: 'Theme: light' } as const;

function ThemeToggle() {
  const theme = useTheme();
  return (
    <button
      type="button"
      className="ghost theme-toggle"
      onClick={() => setTheme(nextTheme(theme))}
      title="Light or dark: follow the system, or choose (click to change)"
      aria-label={`${THEME_LABEL[theme]} (change)`}
    >
      {theme === 'system' ? '◐' : theme === 'dark' ? '☾' : '☀'}
    </button>
  );
}
