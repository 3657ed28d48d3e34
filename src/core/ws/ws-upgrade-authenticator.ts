import type { IncomingMessage } from 'node:http';
import type { Caller } from '../identity/caller.js';

/** Decides at the upgrade whether a WebSocket may open (the auth module provides one). */
export interface WsUpgradeAuthenticator {
  authenticate(request: IncomingMessage): Promise<WsUpgradeDecision>;
}

export type WsUpgradeDecision =
  | { ok: true; caller?: Caller }
  | { ok: false; status: number; message: string; headers?: Record<string, string> };

export const WS_UPGRADE_AUTHENTICATOR = Symbol('openclaw:ws-upgrade-authenticator');

/** Where the upgrade's decision is kept on the request until the connection handler reads it. */
export const UPGRADE_CALLER = Symbol('openclaw:upgrade-caller');
