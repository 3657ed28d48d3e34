import type { ServerResponse } from 'node:http';
import {
  FakeProviderServer,
  type ProviderHandler,
  type ReceivedRequest,
} from './fake-provider.server.js';

/** A Messages API request body as the fake provider received it. */
export interface MessagesRequest {
  model: string;
  max_tokens: number;
  stream?: boolean;
  system?: string | Array<{ type: 'text'; text: string }>;
  messages: Array<{ role: 'user' | 'assistant'; content: string | Array<Record<string, any>> }>;
  tools?: Array<{ name: string; description?: string; input_schema: unknown }>;
  [key: string]: unknown;
}

/** One request with the headers it came with (the API key travels in `x-api-key`). */
export type ReceivedMessagesRequest = ReceivedRequest<MessagesRequest>;

export type MessagesHandler = ProviderHandler<MessagesRequest>;

/** One server-sent event of the Messages API: its `event:` name is the payload's `type`. */
export type MessagesEvent = { type: string } & Record<string, unknown>;

/**
 * The Anthropic Messages API on a loopback port: POST /v1/messages answered by the queued
 * handlers in order (then by the fallback), streamed as real SSE with named events.
 */
export class FakeAnthropicServer extends FakeProviderServer<MessagesRequest> {
  static start(): Promise<FakeAnthropicServer> {
    return new FakeAnthropicServer({
      path: '/messages',
      notFound: (req, res) =>
        sendError(res, 404, 'not_found_error', `Not found: ${req.method} ${req.url}`),
      fallback: (request, res) => streamEvents(res, textEvents(request, 'fallback answer')),
    }).listen();
  }

  get requests(): ReceivedMessagesRequest[] {
    return this.received;
  }
}

let seq = 0;
const nextId = (prefix: string): string => `${prefix}_01${String(++seq).padStart(22, '0')}`;

function messageStart(request: MessagesRequest, inputTokens: number): MessagesEvent {
  return {
    type: 'message_start',
    message: {
      id: nextId('msg'),
      type: 'message',
      role: 'assistant',
      model: request.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: inputTokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens: 1,
      },
    },
  };
}

function messageEnd(stopReason: string, outputTokens: number): MessagesEvent[] {
  return [
    {
      type: 'message_delta',
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { output_tokens: outputTokens },
    },
    { type: 'message_stop' },
  ];
}

/** A streamed text answer: one `text_delta` per piece, `end_turn`, 25 input tokens. */
export function textEvents(request: MessagesRequest, ...pieces: string[]): MessagesEvent[] {
  return [
    messageStart(request, 25),
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    // The API interleaves pings; clients must skip them.
    { type: 'ping' },
    ...pieces.map((text) => ({
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text },
    })),
    { type: 'content_block_stop', index: 0 },
    ...messageEnd('end_turn', pieces.length),
  ];
}

/**
 * A `tool_use` block after a short text block, as Claude answers: the input arrives as
 * `input_json_delta` fragments (the first one empty), then `stop_reason: tool_use`.
 */
export function toolUseEvents(
  request: MessagesRequest,
  id: string,
  name: string,
  input: Record<string, unknown>,
  preamble = 'Let me check.',
): MessagesEvent[] {
  const json = JSON.stringify(input);
  const cut = Math.floor(json.length / 2);
  return [
    messageStart(request, 40),
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: preamble } },
    { type: 'content_block_stop', index: 0 },
    {
      type: 'content_block_start',
      index: 1,
      content_block: { type: 'tool_use', id, name, input: {} },
    },
    {
      type: 'content_block_delta',
      index: 1,
      delta: { type: 'input_json_delta', partial_json: '' },
    },
    ...[json.slice(0, cut), json.slice(cut)].map((partial_json) => ({
      type: 'content_block_delta',
      index: 1,
      delta: { type: 'input_json_delta', partial_json },
    })),
    { type: 'content_block_stop', index: 1 },
    ...messageEnd('tool_use', 12),
  ];
}

/** The `error` event the API sends inside a stream, e.g. `overloaded_error` under load. */
export function errorEvent(type: string, message: string): MessagesEvent {
  return { type: 'error', error: { type, message } };
}

export function startStream(res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'request-id': nextId('req'),
  });
}

export function sendEvent(res: ServerResponse, event: MessagesEvent): void {
  res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
}

/** Streams the events as SSE and ends the response (the API sends no `[DONE]`). */
export function streamEvents(res: ServerResponse, events: MessagesEvent[]): void {
  startStream(res);
  for (const event of events) sendEvent(res, event);
  res.end();
}

/** An HTTP error in the API's shape, e.g. 500 `api_error` or 529 `overloaded_error`. */
export function sendError(
  res: ServerResponse,
  status: number,
  type: string,
  message: string,
): void {
  const requestId = nextId('req');
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': requestId });
  res.end(JSON.stringify({ type: 'error', error: { type, message }, request_id: requestId }));
}
