import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type GatewayClient } from '../src/client/index.js';
import { rpcOver, startGateway, type TestGateway } from './support/gateway.js';
import {
  FakeOpenAiServer,
  sendChunk,
  startStream,
  textChunks,
} from './support/openai-compatible-server.js';
import { WaitingModule, WaitingRpc } from './support/waiting.module.js';

/** The client library's cancellation: a call's AbortSignal, and session.cancel. */
describe('client library cancellation', () => {
  let provider: FakeOpenAiServer;
  let gateway: TestGateway;
  const { ok } = rpcOver(() => gateway);
  const clients: GatewayClient[] = [];
  const client = (transport: 'ws' | 'http') => {
    const made = createClient({ url: gateway.baseUrl, token: gateway.token, transport });
    clients.push(made);
    return made;
  };
  /** Streams `piece`, then hangs until the gateway closes the request. */
  const hanging = (piece: string) => {
    let closed!: () => void;
    const done = new Promise<void>((resolve) => (closed = resolve));
    provider.next(async (_request: unknown, res: ServerResponse) => {
      res.on('close', closed);
      startStream(res);
      for (const data of textChunks(piece).slice(0, 2)) sendChunk(res, data);
      await done;
    });
    return done;
  };
  const lastEvent = async (sessionKey: string) =>
    ((await ok('session.history', { sessionKey, limit: 1000 })) as any[]).at(-1);

  beforeAll(async () => {
    provider = await FakeOpenAiServer.start();
    gateway = await startGateway(
      {
        agents: [provider.agent({ timeout: '30s' })],
      },
      { imports: [WaitingModule] },
    );
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await provider?.close();
    await gateway?.close();
  });

  it('aborting a call over a WebSocket sends $/cancelRequest: the gateway stops it', async () => {
    const ws = client('ws');
    const waiting = gateway.app.get(WaitingRpc);
    waiting.started.reset();
    const controller = new AbortController();
    const call = ws.call('wait.forCancel', {}, { signal: controller.signal });
    await waiting.started.promise;
    controller.abort(new Error('changed my mind'));
    await expect(call).rejects.toThrow('changed my mind');
    await waitUntil(() => waiting.outcomes.at(-1) === 'aborted');
    // The connection goes on serving.
    expect((await ws.agent.list()).map((a) => a.id)).toContain('llm');
  });

  it('aborting session.message over a WebSocket cancels the turn, which stores its partial answer', async () => {
    const ws = client('ws');
    const closed = hanging('Half ');
    const { sessionKey } = await ws.session.create({ agentId: 'llm' });
    const controller = new AbortController();
    const asked = provider.received.length;
    const reply = ws.session.message({ sessionKey, content: 'Go' }, { signal: controller.signal });
    await waitUntil(() => provider.received.length > asked);
    controller.abort();
    await expect(reply).rejects.toThrow();
    await closed;
    await waitUntil(async () => (await lastEvent(sessionKey))?.type === 'message.agent');
    expect((await lastEvent(sessionKey)).data).toMatchObject({
      content: 'Half ',
      finishReason: 'cancelled',
    });
  });

  it('aborting session.message over HTTP aborts the request, which cancels the turn', async () => {
    const http = client('http');
    const closed = hanging('Cut ');
    const { sessionKey } = await http.session.create({ agentId: 'llm' });
    const controller = new AbortController();
    const asked = provider.received.length;
    const reply = http.session.message(
      { sessionKey, content: 'Go' },
      { signal: controller.signal },
    );
    await waitUntil(() => provider.received.length > asked);
    controller.abort();
    await expect(reply).rejects.toThrow();
    await closed;
    await waitUntil(async () => (await lastEvent(sessionKey))?.type === 'message.agent');
    expect((await lastEvent(sessionKey)).data.finishReason).toBe('cancelled');
  });

  it('session.cancel stops a turn another client runs', async () => {
    const [runner, stopper] = [client('ws'), client('http')];
    void hanging('Stop ');
    const { sessionKey } = await runner.session.create({ agentId: 'llm' });
    const asked = provider.received.length;
    const reply = runner.session.message({ sessionKey, content: 'Go' });
    await waitUntil(() => provider.received.length > asked);
    expect(await stopper.session.cancel({ sessionKey })).toEqual({ cancelled: true });
    expect(await reply).toMatchObject({ content: 'Stop ', finishReason: 'cancelled' });
    expect(await stopper.session.cancel({ sessionKey })).toEqual({ cancelled: false });
  });
});

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
