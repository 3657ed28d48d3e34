import 'reflect-metadata';
import { simulateReadableStream } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import type { ConfigValidationError } from '../core/config/config-validation.error.js';
import type { ToolDescriptor } from '../tools/tool.types.js';
import { parseAgentConfigs } from './agent-config.js';
import type { AgentEvent, AgentRunInput, ConversationMessage } from './agent.types.js';
import { LlmAgent } from './llm.agent.js';
import { trimToBudget } from './model-messages.js';

type StreamResult = Awaited<ReturnType<MockLanguageModelV3['doStream']>>;
type StreamPart = StreamResult['stream'] extends ReadableStream<infer P> ? P : never;

function textStream(...pieces: string[]): StreamResult {
  const parts: StreamPart[] = [
    { type: 'text-start', id: 't' },
    ...pieces.map((delta): StreamPart => ({ type: 'text-delta', id: 't', delta })),
    { type: 'text-end', id: 't' },
    {
      type: 'finish',
      finishReason: { unified: 'stop', raw: 'stop' },
      usage: {
        inputTokens: { total: 3, noCache: 3, cacheRead: undefined, cacheWrite: undefined },
        outputTokens: { total: pieces.length, text: pieces.length, reasoning: undefined },
      },
    },
  ];
  return { stream: simulateReadableStream({ chunks: parts }) };
}

function descriptor(name: string): ToolDescriptor {
  return { name, description: name, inputSchema: { type: 'object' }, source: 'builtin' };
}

function input(tools: ToolDescriptor[], ...messages: ConversationMessage[]): AgentRunInput {
  return {
    sessionKey: 's1',
    messages,
    tools,
    executeTool: () => Promise.reject(new Error('no tools in this test')),
  };
}

async function collect(events: AsyncIterable<AgentEvent>): Promise<AgentEvent[]> {
  const all: AgentEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

const agentConfig = (extra: Record<string, unknown> = {}) =>
  parseAgentConfigs([
    { id: 'a', provider: 'openai-compatible', model: 'm', baseUrl: 'http://x', ...extra },
  ])[0];

describe('LlmAgent', () => {
  it('streams text deltas and finishes with the content and usage', async () => {
    const model = new MockLanguageModelV3({ doStream: textStream('Hi', ' there') });
    const events = await collect(
      new LlmAgent(agentConfig(), model).run(
        input([], { role: 'user', content: 'hello' }),
        new AbortController().signal,
      ),
    );
    expect(events).toEqual([
      { type: 'text-delta', delta: 'Hi' },
      { type: 'text-delta', delta: ' there' },
      {
        type: 'finish',
        content: 'Hi there',
        finishReason: 'stop',
        usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 },
      },
    ]);
  });

  it('offers only allowed tools, with dotted names made safe for providers', async () => {
    const model = new MockLanguageModelV3({ doStream: textStream('ok') });
    const agent = new LlmAgent(agentConfig({ tools: ['srv.search', 'echo'] }), model);
    await collect(
      agent.run(
        input([descriptor('srv.search'), descriptor('clock.now'), descriptor('echo')], {
          role: 'user',
          content: 'q',
        }),
        new AbortController().signal,
      ),
    );
    const offered = (model.doStreamCalls[0].tools ?? []).map((tool) => tool.name);
    expect(offered.sort()).toEqual(['echo', 'srv_search']);
  });

  it('sends the system prompt and drops the oldest turns beyond the context budget', async () => {
    const model = new MockLanguageModelV3({ doStream: textStream('ok') });
    const agent = new LlmAgent(agentConfig({ system: 'Be brief.', contextBudget: 12 }), model);
    await collect(
      agent.run(
        input(
          [],
          { role: 'user', content: 'old question' },
          { role: 'assistant', content: 'old answer' },
          { role: 'user', content: 'new one' },
        ),
        new AbortController().signal,
      ),
    );
    const prompt = model.doStreamCalls[0].prompt;
    expect(prompt.map((message) => message.role)).toEqual(['system', 'user']);
    expect(prompt[0]).toMatchObject({ content: 'Be brief.' });
  });
});

describe('trimToBudget', () => {
  const conversation: ConversationMessage[] = [
    { role: 'user', content: 'aaaa' },
    { role: 'assistant', content: 'bbbb' },
    { role: 'user', content: 'cccc' },
    { role: 'assistant', content: 'dddd' },
    { role: 'user', content: 'eeee' },
  ];

  it('keeps everything without a budget or within it', () => {
    expect(trimToBudget(conversation, undefined)).toBe(conversation);
    expect(trimToBudget(conversation, 20)).toEqual(conversation);
  });

  it('drops whole turns, oldest first, and always keeps the latest', () => {
    expect(trimToBudget(conversation, 12)).toEqual(conversation.slice(2));
    expect(trimToBudget(conversation, 1)).toEqual(conversation.slice(4));
  });
});

describe('parseAgentConfigs', () => {
  it('applies defaults and parses durations', () => {
    expect(agentConfig({ timeout: '30s' })).toMatchObject({ maxSteps: 5, timeout: 30_000 });
  });

  it('names every invalid key with its index', () => {
    let problems: string[] = [];
    try {
      parseAgentConfigs([
        { id: 'ok', provider: 'anthropic', model: 'claude' },
        { id: 'ok', provider: 'x', model: '', maxSteps: 0, secret: 1 },
      ]);
    } catch (error) {
      problems = (error as ConfigValidationError).problems;
    }
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual([
      'agents[1].id',
      'agents[1].maxSteps',
      'agents[1].model',
      'agents[1].provider',
      'agents[1].secret',
    ]);
  });
});
