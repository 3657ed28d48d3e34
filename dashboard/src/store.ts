import { reactive, shallowRef } from 'vue';
import { clearToken, loadToken, saveToken, tokenScopes } from './auth-token';
import { createClient, type ConnectionState, type GatewayClient } from '../../src/client/index';

const OPENED_KEY = 'openclaw.sessions';
const CURRENT_KEY = 'openclaw.currentSession';

export interface OpenedSession {
  sessionKey: string;
  agentId: string;
  createdAt: string;
}

interface DashboardState {
  token: string | undefined;
  scopes: string[];
  state: ConnectionState;
  /** Set when the token expired or was refused; shown on the sign-in screen. */
  notice: string;
}

export const store = reactive<DashboardState>({
  token: loadToken(),
  scopes: [],
  state: 'closed',
  notice: '',
});

export const client = shallowRef<GatewayClient | undefined>();

export function signIn(token: string): void {
  client.value?.close();
  saveToken(token);
  store.token = token;
  store.scopes = tokenScopes(token);
  store.notice = '';
  const rpc = createClient({
    url: location.origin,
    token,
    // Short waits: a tab that comes back online reconnects within seconds.
    reconnect: { initialDelayMs: 250, maxDelayMs: 5000 },
    onStateChange: (state) => {
      store.state = state;
      if (state === 'expired') signOut('Your token has expired. Paste a new one to continue.');
    },
  });
  client.value = rpc;
  rpc.connect().catch(() => undefined);
}

export function signOut(notice = ''): void {
  const rpc = client.value;
  client.value = undefined;
  rpc?.close();
  clearToken();
  sessionStorage.removeItem(CURRENT_KEY);
  sessionStorage.removeItem(OPENED_KEY);
  store.token = undefined;
  store.scopes = [];
  store.notice = notice;
}

export function isAdmin(): boolean {
  return store.scopes.includes('admin');
}

export function openedSessions(): OpenedSession[] {
  try {
    return JSON.parse(sessionStorage.getItem(OPENED_KEY) ?? '[]') as OpenedSession[];
  } catch {
    return [];
  }
}

export function rememberSession(session: OpenedSession): void {
  const others = openedSessions().filter((s) => s.sessionKey !== session.sessionKey);
  sessionStorage.setItem(OPENED_KEY, JSON.stringify([session, ...others].slice(0, 50)));
  sessionStorage.setItem(CURRENT_KEY, JSON.stringify(session));
}

export function currentSession(): OpenedSession | undefined {
  try {
    return JSON.parse(sessionStorage.getItem(CURRENT_KEY) ?? 'null') as OpenedSession | undefined;
  } catch {
    return undefined;
  }
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
