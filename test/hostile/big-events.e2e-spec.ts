import { Injectable, Module } from '@nestjs/common';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayAgent } from '../../src/agents/agent.decorator.js';
import type { Agent, AgentEvent, AgentRunInput } from '../../src/agents/agent.types.js';
import { GatewayTool } from '../../src/tools/tool.decorator.js';
import {
  textContent,
  type Tool,
  type ToolExecutionContext,
  type ToolInputSchema,
  type ToolOutput,
} from '../../src/tools/tool.types.js';
import { rpcOver, startGateway, WsTestClient, type TestGateway } from '../support/gateway.js';

/**
 * Big events and the races around a session's log: a client that stores huge tool calls and
 * reads them back in one small call, one that interleaves history and messages on a socket,
 * one that ends a session mid-turn, and one that hangs up on an HTTP call mid-turn.
 */

const MAX_EVENT_BYTES = 256 * 1024; // sessions.maxEventBytes, default
const MAX_PAGE_BYTES = 1024 * 1024; // sessions.maxPageBytes, default
const MB = 1024 * 1024;

/** Streams one word, then waits until it is cancelled (session.end, a client gone). */
@Injectable()
@GatewayAgent()
class StallingAgent implements Agent {
  readonly id = 'stalling';
  readonly name = 'Stalling';
  readonly description = 'Streams a word and waits to be cancelled.';
  readonly provider = 'test';
  private waiters: Array<() => void> = [];

  /** Resolves when the next run has streamed its first word. */
  nextStart(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async *run(_input: AgentRunInput, signal: AbortSignal): AsyncGenerator<AgentEvent> {
    yield { type: 'text-delta', delta: 'partial ' };
    this.waiters.splice(0).forEach((wake) => wake());
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    yield { type: 'finish', content: 'partial ', finishReason: 'cancelled' };
  }
}

/** Returns `size` bytes of text from tiny arguments: a big result needs no big request. */
@Injectable()
@GatewayTool()
class BlobTool implements Tool {
  readonly name = 'blob';
  readonly description = 'Returns size bytes of text.';
  readonly source = 'provider';
  readonly inputSchema: ToolInputSchema = {
    type: 'object',
    properties: { size: { type: 'integer', minimum: 0 } },
    required: ['size'],
  };
  execute(args: Record<string, unknown>): Promise<ToolOutput> {
    return Promise.resolve({ content: [textContent('b'.repeat(Number(args.size)))] });
  }
}

/** Waits until its call is cancelled, and remembers that it was. */
@Injectable()
@GatewayTool()
class WaitTool implements Tool {
  readonly name = 'wait';
  readonly description = 'Waits until cancelled.';
  readonly source = 'provider';
  readonly inputSchema: ToolInputSchema = { type: 'object', properties: {} };
  cancelled = 0;
  running = 0;
  async execute(_args: Record<string, unknown>, ctx: ToolExecutionContext): Promise<ToolOutput> {
    this.running++;
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
    this.cancelled++;
    return { content: [textContent('stopped')] };
  }
}

@Module({ providers: [StallingAgent, BlobTool, WaitTool] })
class HostileExtrasModule {}

let gateway: TestGateway;
const { rpc, ok } = rpcOver(() => gateway);

beforeAll(async () => {
  gateway = await startGateway({}, { imports: [HostileExtrasModule] });
});
afterAll(() => gateway?.close());

async function history(sessionKey: string): Promise<any[]> {
  const all: any[] = [];
  for (let afterSeq = 0; ;) {
    const page = (await ok('session.history', { sessionKey, afterSeq, limit: 1000 })) as any[];
    if (page.length === 0) return all;
    all.push(...page);
    afterSeq = page.at(-1).seq;
  }
}

/** Polls until `check` holds or the deadline passes (events over HTTP cannot be awaited). */
async function eventually<T>(check: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('deadline passed');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Highest heapUsed seen while `work` runs, sampled at every turn of the event loop's timers. */
async function peakHeapDuring(work: () => Promise<unknown>): Promise<number> {
  let peak = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }, 1);
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  return Math.max(peak, process.memoryUsage().heapUsed);
}

describe('memory amplification through big events', () => {
  it('40 tool calls of 250 KB, then 10 small history calls: each reply is capped at 1 MiB and the heap stays bounded', async () => {
    const { sessionKey } = await ok('session.create', {});
    const text = 'e'.repeat(250 * 1024);
    for (let i = 0; i < 40; i++) {
      const reply = await rpc('tools.execute', { name: 'echo', arguments: { text }, sessionKey });
      expect(reply.error).toBeUndefined();
    }
    // 81 events, about 20 MB in the log: once, one 100-byte call answered all of it.
    const before = process.memoryUsage().heapUsed;
    const replies: number[] = [];
    const peak = await peakHeapDuring(() =>
      Promise.all(
        Array.from({ length: 10 }, async () => {
          const response = await fetch(`${gateway.baseUrl}/rpc`, {
            method: 'POST',
            headers: { ...gateway.auth, 'content-type': 'application/json' },
            body: JSON.stringify({
              jsonrpc: '2.0',
              id: 1,
              method: 'session.history',
              params: { sessionKey },
            }),
          });
          const body = await response.text();
          replies.push(Buffer.byteLength(body));
          const events = (JSON.parse(body) as { result: Array<{ seq: number }> }).result;
          expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
        }),
      ),
    );
    for (const bytes of replies) expect(bytes).toBeLessThanOrEqual(MAX_PAGE_BYTES + 16 * 1024);
    // Uncapped, the ten replies took the heap up by ~440 MB; capped, by ~15 MB.
    expect(peak - before).toBeLessThan(64 * MB);

    // Nothing is lost: paging by afterSeq until an empty page walks the whole log.
    const log = await history(sessionKey);
    expect(log.map((e) => e.seq)).toEqual(log.map((_, i) => i + 1));
    expect(log.filter((e) => e.type === 'tool.result')).toHaveLength(40);
  });

  it('refuses tool arguments over sessions.maxEventBytes with -32602 before storing anything', async () => {
    const { sessionKey } = await ok('session.create', {});
    const text = 'a'.repeat(900 * 1024);
    const rssBefore = process.memoryUsage().rss;
    for (let i = 0; i < 10; i++) {
      const reply = await rpc('tools.execute', { name: 'echo', arguments: { text }, sessionKey });
      expect(reply.error).toMatchObject({
        code: -32602,
        data: {
          violations: [
            {
              path: '',
              message: expect.stringMatching(/^arguments too large \(\d+ bytes > 262144\)$/),
            },
          ],
        },
      });
    }
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * MB);
    expect((await history(sessionKey)).map((e) => e.type)).toEqual(['session.created']);
  });

  it('records a tool result over the cap as a failed call with a clear message, and answers -32011', async () => {
    const { sessionKey } = await ok('session.create', {});
    const reply = await rpc('tools.execute', { name: 'blob', arguments: { size: MB }, sessionKey });
    expect(reply.error).toMatchObject({
      code: -32011,
      message: expect.stringMatching(/^Tool "blob" result too large \(\d+ bytes > 262144\)$/),
      data: { tool: 'blob', reason: 'too-large' },
    });
    const log = await history(sessionKey);
    expect(log.map((e) => e.type)).toEqual(['session.created', 'tool.call', 'tool.result']);
    expect(log[2].data.toolCallId).toBe(log[1].data.toolCallId);
    expect(log[2].data.result).toMatchObject({
      isError: true,
      content: [{ type: 'text', text: reply.error!.message }],
    });
    expect(JSON.stringify(log[2]).length).toBeLessThan(1024);
  });

  it('stores a result just under the cap, and pages it alone when it is larger than a page allows', async () => {
    const { sessionKey } = await ok('session.create', {});
    const size = MAX_EVENT_BYTES - 1024;
    const reply = await rpc('tools.execute', { name: 'blob', arguments: { size }, sessionKey });
    expect(reply.result.content[0].text).toHaveLength(size);
    const page = (await ok('session.history', { sessionKey, afterSeq: 2, limit: 1 })) as any[];
    expect(page[0].data.result.content[0].text).toHaveLength(size);
  });
});

describe('history and messages interleaved on one socket', () => {
  it('delivers every event once, in order, and every delta once', async () => {
    const { sessionKey } = await ok('session.create', {});
    await ok('session.message', { sessionKey, content: 'before the socket' });
    const ws = await WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth });
    try {
      const pageSeqs: number[] = [];
      const notified: number[] = [];
      let lastSeq = 0;
      for (let round = 0; round < 5; round++) {
        // Back to back, read in one go: the message's follow lands while the page is read.
        ws.send({
          jsonrpc: '2.0',
          id: `h${round}`,
          method: 'session.history',
          params: { sessionKey, afterSeq: lastSeq },
        });
        ws.send({
          jsonrpc: '2.0',
          id: `m${round}`,
          method: 'session.message',
          params: { sessionKey, content: `round ${round} with a few more words to stream` },
        });
        const page = (await ws.next((f) => f.id === `h${round}`)).result as any[];
        const answer = (await ws.next((f) => f.id === `m${round}`)).result;
        pageSeqs.push(...page.map((e) => e.seq));
        const last = await ws.next(
          (f) => f.method === 'session.event' && f.params.seq === answer.seq,
        );
        notified.push(last.params.seq);
        lastSeq = answer.seq;
      }
      notified.push(
        ...ws.frames.filter((f) => f.method === 'session.event').map((f) => f.params.seq),
      );
      notified.sort((a, b) => a - b);
      const all = [...new Set([...pageSeqs, ...notified])].sort((a, b) => a - b);
      // Nothing notified twice, nothing in a page that was notified before it.
      expect(notified.length + pageSeqs.length).toBe(all.length);
      expect(all).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
      const deltas = ws.frames.filter((f) => f.method === 'session.delta');
      const keys = deltas.map((d) => `${d.params.messageId}:${d.params.index}`);
      expect(new Set(keys).size).toBe(keys.length);
    } finally {
      ws.close();
    }
  });
});

describe('session.end in the middle of a turn', () => {
  it('stores the cancelled answer before session.ended, and nothing after it', async () => {
    const stalling = gateway.app.get(StallingAgent);
    const ws = await WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth });
    try {
      const { sessionKey } = (await ws.call('session.create', { agentId: 'stalling' })).result;
      const started = stalling.nextStart();
      ws.send({
        jsonrpc: '2.0',
        id: 'turn',
        method: 'session.message',
        params: { sessionKey, content: 'go' },
      });
      await started;
      const began = Date.now();
      expect((await ws.call('session.end', { sessionKey, reason: 'enough' })).result).toEqual({
        ok: true,
      });
      expect(Date.now() - began).toBeLessThan(2000);
      const turn = await ws.next((f) => f.id === 'turn');
      expect(turn.result).toMatchObject({ finishReason: 'cancelled', content: 'partial ' });

      const log = await history(sessionKey);
      expect(log.map((e) => e.type)).toEqual([
        'session.created',
        'message.user',
        'message.agent',
        'session.ended',
      ]);
      expect(log[2].data).toMatchObject({ finishReason: 'cancelled', content: 'partial ' });
      expect(log[3].data).toEqual({ reason: 'enough' });
    } finally {
      ws.close();
    }
  });
});

describe('an HTTP client that hangs up mid-call', () => {
  /** Sends a call and destroys the connection once `started` resolves, never reading a reply. */
  async function hangUpAfter(body: unknown, started: Promise<unknown>): Promise<void> {
    const payload = JSON.stringify(body);
    const req = httpRequest(`${gateway.baseUrl}/rpc`, {
      method: 'POST',
      headers: {
        ...gateway.auth,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(payload),
      },
    });
    req.on('error', () => undefined); // the socket we destroy
    req.end(payload);
    await started;
    req.destroy();
  }

  it('cancels its session.message: the turn is stored with finishReason "cancelled"', async () => {
    const stalling = gateway.app.get(StallingAgent);
    const { sessionKey } = await ok('session.create', { agentId: 'stalling' });
    const began = Date.now();
    await hangUpAfter(
      { jsonrpc: '2.0', id: 1, method: 'session.message', params: { sessionKey, content: 'go' } },
      stalling.nextStart(),
    );
    const answer = await eventually(async () =>
      (await history(sessionKey)).find((e) => e.type === 'message.agent'),
    );
    expect(answer.data).toMatchObject({ finishReason: 'cancelled', content: 'partial ' });
    // The agent would wait forever: only the hang-up stopped it.
    expect(Date.now() - began).toBeLessThan(5000);
  });

  it('cancels its tools.execute: the tool sees the abort and the session records the failure', async () => {
    const wait = gateway.app.get(WaitTool);
    const { sessionKey } = await ok('session.create', {});
    const cancelledBefore = wait.cancelled;
    const runningBefore = wait.running;
    await hangUpAfter(
      { jsonrpc: '2.0', id: 1, method: 'tools.execute', params: { name: 'wait', sessionKey } },
      eventually(() => Promise.resolve(wait.running > runningBefore ? true : undefined)),
    );
    await eventually(() => Promise.resolve(wait.cancelled > cancelledBefore ? true : undefined));
    const result = await eventually(async () =>
      (await history(sessionKey)).find((e) => e.type === 'tool.result'),
    );
    expect(result.data.result).toMatchObject({
      isError: true,
      content: [{ type: 'text', text: 'Tool "wait" was cancelled' }],
    });
  });
});
