import type { IncomingMessage } from 'node:http';

/** Decides at the upgrade whether a client may open one more WebSocket (the rate-limit module). */
export interface WsUpgradeLimiter {
  admit(request: IncomingMessage): Promise<WsUpgradeAdmission>;
}

export type WsUpgradeAdmission =
  { ok: true } | { ok: false; status: number; message: string; headers?: Record<string, string> };

export const WS_UPGRADE_LIMITER = Symbol('openclaw:ws-upgrade-limiter');
