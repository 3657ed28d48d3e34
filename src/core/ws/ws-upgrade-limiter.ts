import type { IncomingMessage } from 'node:http';
import type { Caller } from '../identity/caller.js';

/**
 * Decides at the upgrade, once the client is authenticated, whether it may open one more
 * WebSocket (the rate-limit module provides one).
 */
export interface WsUpgradeLimiter {
  admit(request: IncomingMessage, caller?: Caller): Promise<WsUpgradeAdmission>;
}

export type WsUpgradeAdmission =
  | {
      ok: true;
      /** Gives the connection's place back; called once, when its socket closes. */
      release?: () => void;
    }
  | { ok: false; status: number; message: string; headers?: Record<string, string> };

export const WS_UPGRADE_LIMITER = Symbol('openclaw:ws-upgrade-limiter');
