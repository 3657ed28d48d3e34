import type { ServerResponse } from 'node:http';
import {
  FakeProviderServer,
  type ProviderHandler,
  type ReceivedRequest,
} from './fake-provider.server.js';

/** A Responses API request body as the fake provider received it. */
export interface ResponsesRequest {
  model: string;
  stream?: boolean;
  input: Array<Record<string, any>>;
  tools?: Array<{ type: 'function'; name: string; parameters: unknown; strict?: boolean }>;
  [key: string]: unknown;
}

/** One request with the headers it came with (the API key travels in `authorization`). */
export type ReceivedResponsesRequest = ReceivedRequest<ResponsesRequest>;

export type ResponsesHandler = ProviderHandler<ResponsesRequest>;

/** One server-sent event; `sequence_number` is stamped when it is sent. */
export type ResponsesEvent = { type: string } & Record<string, unknown>;

/**
 * The OpenAI Responses API on a loopback port: POST /v1/responses answered by the queued
 * handlers in order (then by the fallback), streamed as real SSE with named events.
 */
export class FakeOpenAiResponsesServer extends FakeProviderServer<ResponsesRequest> {
  static start(): Promise<FakeOpenAiResponsesServer> {
    return new FakeOpenAiResponsesServer({
      path: '/responses',
      notFound: (req, res) =>
        sendError(res, 404, 'invalid_request_error', `Invalid URL (${req.method} ${req.url})`),
      fallback: (request, res) => streamEvents(res, textEvents(request, 'fallback answer')),
    }).listen();
  }

  get requests(): ReceivedResponsesRequest[] {
    return this.received;
  }
}

let seq = 0;
const nextId = (prefix: string): string => `${prefix}_${String(++seq).padStart(32, '0')}`;

type Usage = { input_tokens: number; output_tokens: number };

/** The response object that `response.created`, `.in_progress` and `.completed` carry. */
function responseObject(
  id: string,
  request: ResponsesRequest,
  status: 'in_progress' | 'completed' | 'failed',
  output: unknown[] = [],
  usage?: Usage,
  error: { code: string; message: string } | null = null,
): Record<string, unknown> {
  return {
    id,
    object: 'response',
    created_at: 1_700_000_000,
    status,
    background: false,
    error,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: null,
    // The API answers with the dated snapshot of the requested alias.
    model: `${request.model}-2025-04-14`,
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    service_tier: 'default',
    store: true,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: request.tools ?? [],
    top_p: 1,
    truncation: 'disabled',
    usage:
      usage === undefined
        ? null
        : {
            input_tokens: usage.input_tokens,
            input_tokens_details: { cached_tokens: 0 },
            output_tokens: usage.output_tokens,
            output_tokens_details: { reasoning_tokens: 0 },
            total_tokens: usage.input_tokens + usage.output_tokens,
          },
    user: null,
    metadata: {},
  };
}

/** `response.created` and `response.in_progress`, which open every stream. */
function opening(id: string, request: ResponsesRequest): ResponsesEvent[] {
  return [
    { type: 'response.created', response: responseObject(id, request, 'in_progress') },
    { type: 'response.in_progress', response: responseObject(id, request, 'in_progress') },
  ];
}

/** A message output item whose text streams as `output_text` deltas, one per piece. */
function messageItemEvents(
  outputIndex: number,
  pieces: string[],
): {
  events: ResponsesEvent[];
  item: Record<string, unknown>;
} {
  const itemId = nextId('msg');
  const text = pieces.join('');
  const part = (value: string) => ({
    type: 'output_text',
    annotations: [],
    logprobs: [],
    text: value,
  });
  const at = { item_id: itemId, output_index: outputIndex, content_index: 0 };
  const item = {
    id: itemId,
    type: 'message',
    status: 'completed',
    content: [part(text)],
    role: 'assistant',
  };
  return {
    item,
    events: [
      {
        type: 'response.output_item.added',
        output_index: outputIndex,
        item: { ...item, status: 'in_progress', content: [] },
      },
      { type: 'response.content_part.added', ...at, part: part('') },
      ...pieces.map((delta) => ({
        type: 'response.output_text.delta',
        ...at,
        delta,
        logprobs: [],
      })),
      { type: 'response.output_text.done', ...at, text, logprobs: [] },
      { type: 'response.content_part.done', ...at, part: part(text) },
      { type: 'response.output_item.done', output_index: outputIndex, item },
    ],
  };
}

/** A streamed text answer: one `response.output_text.delta` per piece, 19 input tokens. */
export function textEvents(request: ResponsesRequest, ...pieces: string[]): ResponsesEvent[] {
  const id = nextId('resp');
  const message = messageItemEvents(0, pieces);
  const usage = { input_tokens: 19, output_tokens: pieces.length };
  return [
    ...opening(id, request),
    ...message.events,
    {
      type: 'response.completed',
      response: responseObject(id, request, 'completed', [message.item], usage),
    },
  ];
}

/**
 * A `function_call` output item whose arguments arrive as several
 * `response.function_call_arguments.delta` events; `.done` carries no `name`, as live events.
 */
export function functionCallEvents(
  request: ResponsesRequest,
  callId: string,
  name: string,
  args: Record<string, unknown>,
): ResponsesEvent[] {
  const id = nextId('resp');
  const itemId = nextId('fc');
  const json = JSON.stringify(args);
  const cut = Math.floor(json.length / 2);
  const item = {
    id: itemId,
    type: 'function_call',
    status: 'completed',
    arguments: json,
    call_id: callId,
    name,
  };
  const at = { item_id: itemId, output_index: 0 };
  return [
    ...opening(id, request),
    {
      type: 'response.output_item.added',
      output_index: 0,
      item: { ...item, status: 'in_progress', arguments: '' },
    },
    ...[json.slice(0, cut), json.slice(cut)].map((delta) => ({
      type: 'response.function_call_arguments.delta',
      ...at,
      delta,
    })),
    { type: 'response.function_call_arguments.done', ...at, arguments: json },
    { type: 'response.output_item.done', output_index: 0, item },
    {
      type: 'response.completed',
      response: responseObject(id, request, 'completed', [item], {
        input_tokens: 33,
        output_tokens: 9,
      }),
    },
  ];
}

/**
 * A stream that starts answering, then fails as the API does mid-stream: with an `error` event,
 * or with `response.failed` whose response object carries the error.
 */
export function failingEvents(
  request: ResponsesRequest,
  ending: 'error' | 'response.failed',
  code: string,
  message: string,
): ResponsesEvent[] {
  const id = nextId('resp');
  // The message item opens and its first delta arrives; then the failure ends the stream.
  const opened = messageItemEvents(0, ['Partial ']).events.slice(0, 3);
  const failure: ResponsesEvent =
    ending === 'error'
      ? { type: 'error', code, message, param: null }
      : {
          type: 'response.failed',
          response: responseObject(id, request, 'failed', [], undefined, { code, message }),
        };
  return [...opening(id, request), ...opened, failure];
}

export function startStream(res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-request-id': nextId('req'),
  });
}

/** Streams the events as SSE with increasing `sequence_number`s and ends (no `[DONE]`). */
export function streamEvents(res: ServerResponse, events: ResponsesEvent[]): void {
  startStream(res);
  events.forEach((event, sequence_number) => {
    const data = { ...event, sequence_number };
    res.write(`event: ${event.type}\ndata: ${JSON.stringify(data)}\n\n`);
  });
  res.end();
}

/** An HTTP error in the API's shape, e.g. 500 `server_error`. */
export function sendError(
  res: ServerResponse,
  status: number,
  type: string,
  message: string,
): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': nextId('req') });
  res.end(JSON.stringify({ error: { message, type, param: null, code: null } }));
}
