/** History navigation without a router library: push a path and tell the app to re-render. */
import { useEffect, useState } from 'react';

const EVENT = 'trellis:navigate';

/**
 * A page with unsaved work registers a guard: it is asked before any in-app navigation (links,
 * `navigate()`, the browser's back/forward) and returns false to stay. Reloading or closing the
 * tab is the page's `beforeunload` business.
 */
type LeaveGuard = (to: string) => boolean;
let guard: LeaveGuard | undefined;

export function setLeaveGuard(g: LeaveGuard | undefined): void {
  guard = g;
}

export function navigate(path: string, replace = false): void {
  if (guard && !replace && path !== location.pathname && !guard(path)) return;
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  window.dispatchEvent(new Event(EVENT));
}

/** The current pathname, updated on navigate() and on back/forward. */
export function usePathname(): string {
  const [path, setPath] = useState(() => location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    const onPop = () => {
      // Back/forward already changed the address: put it back when the page says stay.
      if (guard && location.pathname !== path && !guard(location.pathname)) {
        history.pushState(null, '', path);
        return;
      }
      update();
    };
    window.addEventListener(EVENT, update);
    window.addEventListener('popstate', onPop);
    return () => {
      window.removeEventListener(EVENT, update);
      window.removeEventListener('popstate', onPop);
    };
  }, [path]);
  return path;
}
