import type { ServerResponse } from 'node:http';
import { FakeProviderServer, type ProviderHandler } from './fake-provider.server.js';

/** A chat completions request as the fake provider received it. */
export interface ChatRequest {
  model: string;
  stream?: boolean;
  messages: Array<Record<string, any>>;
  tools?: Array<{ type: 'function'; function: { name: string; parameters: unknown } }>;
  [key: string]: unknown;
}

export type ChatHandler = ProviderHandler<ChatRequest>;

/**
 * An OpenAI-compatible provider on a loopback port: POST /v1/chat/completions answered by the
 * queued handlers in order (then by the fallback), streamed as real SSE.
 */
export class FakeOpenAiServer extends FakeProviderServer<ChatRequest> {
  static start(): Promise<FakeOpenAiServer> {
    return new FakeOpenAiServer({
      path: '/chat/completions',
      notFound: (_req, res) => res.writeHead(404).end(),
      fallback: (_request, res) => streamChunks(res, textChunks('fallback answer')),
    }).listen();
  }

  /** The request bodies, oldest first. */
  get requests(): ChatRequest[] {
    return this.received.map((request) => request.body);
  }

  /**
   * The config of an agent whose model is this server: id `llm` unless `extra` names another,
   * no retries (a failure the test provokes is seen at once), and the test's own settings.
   */
  agent(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      id: 'llm',
      provider: 'openai-compatible',
      model: 'test-model',
      baseUrl: this.baseUrl,
      maxRetries: 0,
      ...extra,
    };
  }
}

type Chunk = Record<string, unknown>;

function chunk(delta: Chunk, finishReason: string | null = null): Chunk {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'test-model',
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  };
}

function usageChunk(prompt: number, completion: number): Chunk {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'test-model',
    choices: [],
    usage: {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
    },
  };
}

/** A streamed text answer: one chunk per piece, then `stop` and usage. */
export function textChunks(...pieces: string[]): Chunk[] {
  return [
    chunk({ role: 'assistant', content: '' }),
    ...pieces.map((piece) => chunk({ content: piece })),
    chunk({}, 'stop'),
    usageChunk(11, pieces.length),
  ];
}

/** A streamed tool call whose arguments arrive in several deltas. */
export function toolCallChunks(id: string, name: string, args: Record<string, unknown>): Chunk[] {
  const json = JSON.stringify(args);
  const cut = Math.floor(json.length / 2);
  return [
    chunk({
      role: 'assistant',
      content: null,
      tool_calls: [{ index: 0, id, type: 'function', function: { name, arguments: '' } }],
    }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: json.slice(0, cut) } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: json.slice(cut) } }] }),
    chunk({}, 'tool_calls'),
    usageChunk(7, 3),
  ];
}

export function startStream(res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
}

export function sendChunk(res: ServerResponse, data: Chunk | string): void {
  res.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
}

/** Streams the chunks as SSE, then `[DONE]`. */
export async function streamChunks(
  res: ServerResponse,
  chunks: Chunk[],
  delayMs = 0,
): Promise<void> {
  startStream(res);
  for (const data of chunks) {
    sendChunk(res, data);
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (res.destroyed) return;
  }
  sendChunk(res, '[DONE]');
  res.end();
}
