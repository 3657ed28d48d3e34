/** The bearer token lives in sessionStorage only: never in a query string, a cookie or a log. */
const KEY = 'openclaw.token';

/** Takes `#token=…` from the address (then removes it from the bar and history). */
export function takeTokenFromFragment(location: Location, history: History): string | undefined {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!match) return undefined;
  history.replaceState(history.state, '', location.pathname + location.search);
  return decodeURIComponent(match[1]);
}

/** What watchTokenLinks needs of `window`: its events, address and history. */
export interface TokenLinkWindow {
  location: Location;
  history: History;
  addEventListener(type: 'hashchange', listener: () => void): void;
  removeEventListener(type: 'hashchange', listener: () => void): void;
}

/**
 * Calls `onToken` for a `#token=…` link opened in this tab after it loaded (a browser only fires
 * `hashchange` then, it does not reload the page). Returns a function that stops watching.
 */
export function watchTokenLinks(
  win: TokenLinkWindow,
  onToken: (token: string) => void,
): () => void {
  const listener = (): void => {
    const token = takeTokenFromFragment(win.location, win.history);
    if (token) onToken(token);
  };
  win.addEventListener('hashchange', listener);
  return () => win.removeEventListener('hashchange', listener);
}

export function loadToken(): string | undefined {
  return sessionStorage.getItem(KEY) ?? undefined;
}

export function saveToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function clearToken(): void {
  sessionStorage.removeItem(KEY);
}

/** The token's scopes, read (not verified) from its payload, to shape the UI only. */
export function tokenScopes(token: string): string[] {
  try {
    const payload = token.split('.')[1] ?? '';
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const scope = (JSON.parse(json) as { scope?: unknown }).scope;
    return typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
  } catch {
    return [];
  }
}
