import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, postRpc } from './support/gateway.js';
import { signToken, TEST_SECRET } from './support/auth-tokens.js';

let authorization = '';
import { freePort, startNode, type RunningProcess } from './support/process.js';

async function untilUp(baseUrl: string, gateway: RunningProcess): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const reply = await postRpc(
        baseUrl,
        { jsonrpc: '2.0', id: 1, method: 'agent.list' },
        { headers: { authorization } },
      );
      if (reply.status === 200) return;
    } catch {
      // not listening yet
    }
    if (gateway.child.exitCode !== null) throw new Error(`gateway exited: ${gateway.stderr()}`);
    if (Date.now() > deadline) throw new Error(`gateway did not start: ${gateway.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('durability', () => {
  let dir: string;
  let port: number;
  let env: Record<string, string>;
  let gateway: RunningProcess | undefined;

  const start = async (): Promise<string> => {
    gateway = startNode(['dist/main.js', 'serve'], env);
    const baseUrl = `http://127.0.0.1:${port}`;
    await untilUp(baseUrl, gateway);
    return baseUrl;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'openclaw-durability-'));
    port = await freePort();
    env = {
      OPENCLAW_PORT: String(port),
      OPENCLAW_DATABASE_URL: `sqlite:${join(dir, 'gateway.db')}`,
      OPENCLAW_LOG_LEVEL: 'warn',
      OPENCLAW_JWT_SECRET: TEST_SECRET,
    };
    authorization = `Bearer ${await signToken({ sub: 'durable', scope: ALL_SCOPES }, { exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  }, 180_000);

  afterAll(() => {
    gateway?.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged message and its reply across a SIGKILL', async () => {
    let baseUrl = await start();
    const call = async (method: string, params: unknown) =>
      (
        await postRpc(
          baseUrl,
          { jsonrpc: '2.0', id: 1, method, params },
          { headers: { authorization } },
        )
      ).body;
    const sessions: string[] = [];
    for (let i = 0; i < 4; i++) sessions.push((await call('session.create', {})).result.sessionKey);

    // Four clients, each sending to its own session one message after another, until killed.
    const acknowledged: Array<{ sessionKey: string; content: string; messageId: string }> = [];
    let killed = false;
    const client = async (sessionKey: string, n: number) => {
      for (let i = 0; !killed; i++) {
        const content = `client ${n} message ${i} ${'word '.repeat(20)}`;
        try {
          const reply = await call('session.message', { sessionKey, content });
          if (reply?.result)
            acknowledged.push({ sessionKey, content, messageId: reply.result.messageId });
        } catch {
          return; // the connection died with the process
        }
      }
    };
    const clients = sessions.map((key, n) => client(key, n));
    while (acknowledged.length < 40) await new Promise((resolve) => setTimeout(resolve, 10));
    gateway!.child.kill('SIGKILL');
    killed = true;
    await gateway!.exited;
    await Promise.all(clients);

    baseUrl = await start();
    for (const sessionKey of sessions) {
      const events = (await call('session.history', { sessionKey, limit: 1000 })).result as any[];
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      for (const ack of acknowledged.filter((a) => a.sessionKey === sessionKey)) {
        const user = events.filter(
          (e) => e.type === 'message.user' && e.data.messageId === ack.messageId,
        );
        const agent = events.filter(
          (e) => e.type === 'message.agent' && e.data.messageId === ack.messageId,
        );
        expect(user.map((e) => e.data.content)).toEqual([ack.content]);
        expect(agent.map((e) => e.data.content)).toEqual([ack.content]);
      }
    }
    // The restarted gateway continues a session where it stopped.
    const next = await call('session.message', {
      sessionKey: sessions[0],
      content: 'after restart',
    });
    expect(next.result.content).toBe('after restart');
  }, 120_000);
});
