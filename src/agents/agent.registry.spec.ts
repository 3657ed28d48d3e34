import { Injectable } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { GatewayErrorCode } from '../core/errors/gateway-error-code.js';
import { GatewayAgent } from './agent.decorator.js';
import { AgentFailedException, AgentNotFoundException } from './agent.exception.js';
import { AgentRegistry } from './agent.registry.js';
import type { Agent, AgentEvent, AgentRunInput } from './agent.types.js';

const noInput: AgentRunInput = {
  sessionKey: 's1',
  messages: [{ role: 'user', content: 'hi there' }],
  tools: [],
  executeTool: () => Promise.reject(new Error('no tools')),
};

/** An agent whose run yields the given events, then optionally throws; it keeps its signal. */
function scriptedAgent(
  id: string,
  events: AgentEvent[],
  thenThrow?: Error,
): Agent & { lastSignal?: AbortSignal } {
  return {
    id,
    name: id,
    description: `scripted ${id}`,
    provider: 'test',
    model: 'script-1',
    async *run(_input: AgentRunInput, signal: AbortSignal) {
      this.lastSignal = signal;
      for (const event of events) {
        await Promise.resolve();
        yield event;
      }
      if (thenThrow) throw thenThrow;
    },
  };
}

@Injectable()
@GatewayAgent()
class WeatherAgent implements Agent {
  readonly id: string = 'weather';
  readonly name = 'Weather';
  readonly description = 'Says it is sunny.';
  readonly provider = 'test';
  async *run(): AsyncGenerator<AgentEvent> {
    await Promise.resolve();
    yield { type: 'finish', content: 'sunny', finishReason: 'stop' };
  }
}

@Injectable()
@GatewayAgent()
class FakeEchoAgent extends WeatherAgent {
  override readonly id = 'echo';
}

async function bootRegistry(...providers: Array<new (...args: never[]) => unknown>) {
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule],
    providers: [
      AgentRegistry,
      { provide: GatewayConfig, useValue: new GatewayConfig() },
      ...providers,
    ],
  }).compile();
  await moduleRef.init();
  return moduleRef.get(AgentRegistry);
}

async function drain(events: AsyncIterable<AgentEvent>): Promise<AgentEvent[]> {
  const all: AgentEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

describe('AgentRegistry', () => {
  it('lists the built-in echo agent and @GatewayAgent() providers', async () => {
    const registry = await bootRegistry(WeatherAgent);
    expect(registry.list()).toEqual([
      { id: 'echo', name: 'Echo', description: expect.any(String), provider: 'builtin' },
      { id: 'weather', name: 'Weather', description: 'Says it is sunny.', provider: 'test' },
    ]);
    expect(registry.defaultAgentId).toBe('echo');
  });

  it('fails the boot on a duplicate agent id', async () => {
    await expect(bootRegistry(FakeEchoAgent)).rejects.toThrow('Duplicate agent id "echo"');
  });

  it('throws AgentNotFoundException (NOT_FOUND) for an unknown agent', async () => {
    const registry = await bootRegistry();
    expect(() => registry.get('nope')).toThrow(AgentNotFoundException);
    expect(() => registry.status('nope')).toThrow(
      expect.objectContaining({ code: GatewayErrorCode.NOT_FOUND }),
    );
    expect(() => registry.run('nope', noInput, new AbortController().signal)).toThrow(
      AgentNotFoundException,
    );
  });

  it('counts a run as busy while it streams and idle after', async () => {
    const registry = await bootRegistry();
    expect(registry.status('echo')).toEqual({
      agentId: 'echo',
      state: 'idle',
      activeRuns: 0,
      totalRuns: 0,
    });
    const run = registry.run('echo', noInput, new AbortController().signal);
    expect(registry.status('echo').activeRuns).toBe(0); // nothing runs until consumed
    const first = await run.next();
    expect(first.value).toEqual({ type: 'text-delta', delta: 'hi ' });
    expect(registry.status('echo')).toMatchObject({ state: 'busy', activeRuns: 1, totalRuns: 1 });
    expect(await drain(run)).toEqual([
      { type: 'text-delta', delta: 'there' },
      { type: 'finish', content: 'hi there', finishReason: 'stop' },
    ]);
    const status = registry.status('echo');
    expect(status).toMatchObject({ state: 'idle', activeRuns: 0, totalRuns: 1 });
    expect(Date.parse(status.lastRunAt!)).not.toBeNaN();
  });

  it('releases the run when the consumer stops early, and aborts the agent', async () => {
    const registry = await bootRegistry();
    const slow = scriptedAgent('slow', [
      { type: 'text-delta', delta: 'a' },
      { type: 'text-delta', delta: 'b' },
      { type: 'finish', content: 'ab', finishReason: 'stop' },
    ]);
    registry.register(slow);
    for await (const event of registry.run('slow', noInput, new AbortController().signal)) {
      expect(event.type).toBe('text-delta');
      break;
    }
    expect(registry.status('slow')).toMatchObject({ state: 'idle', activeRuns: 0, totalRuns: 1 });
    expect(slow.lastSignal?.aborted).toBe(true);
  });

  it("runs on the caller's own controller when given one, and aborts it when the run ends", async () => {
    const registry = await bootRegistry();
    const own = scriptedAgent('own', [{ type: 'finish', content: 'done', finishReason: 'stop' }]);
    registry.register(own);
    const control = new AbortController();
    const events = [];
    for await (const event of registry.run('own', noInput, control)) events.push(event.type);
    expect(events).toEqual(['finish']);
    expect(own.lastSignal).toBe(control.signal);
    expect(control.signal.aborted).toBe(true);
  });

  it('turns a throwing agent into AgentFailedException, records the error and frees the run', async () => {
    const registry = await bootRegistry();
    registry.register(
      scriptedAgent(
        'broken',
        [{ type: 'text-delta', delta: 'par' }],
        new Error('socket hang up at 10.0.0.3 with key sk-secret'),
      ),
    );
    const events: AgentEvent[] = [];
    const failure = await (async () => {
      try {
        for await (const event of registry.run('broken', noInput, new AbortController().signal)) {
          events.push(event);
        }
      } catch (error) {
        return error;
      }
    })();
    expect(events).toEqual([{ type: 'text-delta', delta: 'par' }]);
    expect(failure).toBeInstanceOf(AgentFailedException);
    expect(failure).toMatchObject({
      code: GatewayErrorCode.AGENT_FAILED,
      message: 'Agent "broken" failed',
      data: { agentId: 'broken', retryable: false },
    });
    expect(registry.status('broken')).toMatchObject({
      state: 'idle',
      activeRuns: 0,
      totalRuns: 1,
      lastError: 'Agent "broken" failed',
    });
  });

  it('shows an agent unavailable after a retryable error event, and idle after the next success', async () => {
    const registry = await bootRegistry();
    let down = true;
    registry.register({
      ...scriptedAgent('llm', []),
      async *run() {
        await Promise.resolve();
        yield down
          ? { type: 'error', message: 'provider unreachable', retryable: true }
          : { type: 'finish', content: 'ok', finishReason: 'stop' };
      },
    });
    await drain(registry.run('llm', noInput, new AbortController().signal));
    expect(registry.status('llm')).toMatchObject({
      state: 'unavailable',
      lastError: 'provider unreachable',
      activeRuns: 0,
    });
    down = false;
    await drain(registry.run('llm', noInput, new AbortController().signal));
    expect(registry.status('llm')).toMatchObject({ state: 'idle', totalRuns: 2 });
  });

  it('fails a run that ends without finish or error', async () => {
    const registry = await bootRegistry();
    registry.register(scriptedAgent('mute', [{ type: 'text-delta', delta: 'x' }]));
    await expect(
      drain(registry.run('mute', noInput, new AbortController().signal)),
    ).rejects.toBeInstanceOf(AgentFailedException);
    expect(registry.status('mute')).toMatchObject({ activeRuns: 0, lastError: expect.any(String) });
  });

  it('ends an aborted run that throws as finish cancelled, with the text so far', async () => {
    const registry = await bootRegistry();
    const controller = new AbortController();
    registry.register({
      ...scriptedAgent('aborting', []),
      async *run(_input: AgentRunInput, signal: AbortSignal) {
        yield { type: 'text-delta', delta: 'so far' };
        await Promise.resolve();
        signal.throwIfAborted();
        yield { type: 'finish', content: 'never', finishReason: 'stop' };
      },
    });
    const events: AgentEvent[] = [];
    for await (const event of registry.run('aborting', noInput, controller.signal)) {
      events.push(event);
      controller.abort();
    }
    expect(events.at(-1)).toEqual({ type: 'finish', content: 'so far', finishReason: 'cancelled' });
    expect(registry.status('aborting')).toMatchObject({ state: 'idle', activeRuns: 0 });
    expect(registry.status('aborting').lastError).toBeUndefined();
  });
});
