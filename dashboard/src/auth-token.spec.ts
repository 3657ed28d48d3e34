import { describe, expect, it } from 'vitest';
import { watchTokenLinks, type TokenLinkWindow } from './auth-token';

/** A tab's window as watchTokenLinks sees it: an address, a history and hashchange events. */
function fakeTab(hash = '') {
  const events = new EventTarget();
  const location = { hash, pathname: '/chat', search: '?x=1' } as Location;
  const replaced: string[] = [];
  const history = {
    state: null,
    replaceState: (_state: unknown, _title: string, url: string) => {
      replaced.push(url);
      location.hash = '';
    },
  } as unknown as History;
  const win: TokenLinkWindow = {
    location,
    history,
    addEventListener: (type, listener) => events.addEventListener(type, listener),
    removeEventListener: (type, listener) => events.removeEventListener(type, listener),
  };
  /** The user opens `#…` in this tab, which is already loaded. */
  const open = (fragment: string) => {
    location.hash = fragment;
    events.dispatchEvent(new Event('hashchange'));
  };
  return { win, open, replaced };
}

describe('watchTokenLinks', () => {
  it('signs in with a #token= link opened in a tab that is already loaded, and clears the address', () => {
    const tab = fakeTab();
    const tokens: string[] = [];
    watchTokenLinks(tab.win, (token) => tokens.push(token));

    tab.open('#token=eyJ.a%2Bb.c');

    expect(tokens).toEqual(['eyJ.a+b.c']);
    expect(tab.replaced).toEqual(['/chat?x=1']);
    expect(tab.win.location.hash).toBe('');
  });

  it('ignores fragments without a token', () => {
    const tab = fakeTab();
    const tokens: string[] = [];
    watchTokenLinks(tab.win, (token) => tokens.push(token));

    tab.open('#section-2');

    expect(tokens).toEqual([]);
    expect(tab.replaced).toEqual([]);
  });

  it('stops watching when asked', () => {
    const tab = fakeTab();
    const tokens: string[] = [];
    const stop = watchTokenLinks(tab.win, (token) => tokens.push(token));
    stop();

    tab.open('#token=late');

    expect(tokens).toEqual([]);
  });
});
