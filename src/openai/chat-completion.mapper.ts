import type { AgentUsage, FinishReason } from '../agents/agent.types.js';
import type { AgentResponse } from '../sessions/session-api.types.js';

export type OpenAiFinishReason = 'stop' | 'length';

export interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** What the gateway adds to OpenAI's objects: where the turn is stored, and its own reason. */
export interface OpenClawExtension {
  session_key: string;
  message_id: string;
  seq: number;
  finish_reason: FinishReason;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: 0;
    message: { role: 'assistant'; content: string; refusal: null };
    logprobs: null;
    finish_reason: OpenAiFinishReason;
  }>;
  usage: OpenAiUsage;
  openclaw: OpenClawExtension;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: Array<{
    index: 0;
    delta: { role?: 'assistant'; content?: string };
    logprobs: null;
    finish_reason: OpenAiFinishReason | null;
  }>;
  usage?: OpenAiUsage | null;
  openclaw?: OpenClawExtension;
}

/**
 * Our finish reasons on OpenAI's scale: `stop` is a complete answer; everything else ended
 * before the agent finished it (`length`: over the answer cap; `tool_calls`: out of steps while
 * still calling its server-side tools; `cancelled`; `error`; `budget_exceeded`), which OpenAI's clients know as
 * `length`. The exact reason travels in `openclaw.finish_reason`.
 */
export function toOpenAiFinishReason(reason: FinishReason): OpenAiFinishReason {
  switch (reason) {
    case 'stop':
      return 'stop';
    case 'length':
    case 'tool_calls':
    case 'cancelled':
    case 'error':
    case 'budget_exceeded':
      return 'length';
  }
}

/** Token counts as the agent's provider reported them; 0 where it reported none (echo). */
export function toOpenAiUsage(usage: AgentUsage | undefined): OpenAiUsage {
  const prompt = usage?.inputTokens ?? 0;
  const completion = usage?.outputTokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: usage?.totalTokens ?? prompt + completion,
  };
}

export function completionId(messageId: string): string {
  return `chatcmpl-${messageId}`;
}

function extension(response: AgentResponse): OpenClawExtension {
  return {
    session_key: response.sessionKey,
    message_id: response.messageId,
    seq: response.seq,
    finish_reason: response.finishReason,
  };
}

/** The non-streaming answer. Tool calls ran on the gateway and are not the client's to make. */
export function toChatCompletion(
  response: AgentResponse,
  model: string,
  created: number,
): ChatCompletion {
  return {
    id: completionId(response.messageId),
    object: 'chat.completion',
    created,
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: response.content, refusal: null },
        logprobs: null,
        finish_reason: toOpenAiFinishReason(response.finishReason),
      },
    ],
    usage: toOpenAiUsage(response.usage),
    openclaw: extension(response),
  };
}

/** The chunks of one streamed answer, all with the same id, model and creation time. */
export class ChatChunkBuilder {
  constructor(
    private readonly id: string,
    private readonly model: string,
    private readonly created: number,
  ) {}

  /** The first chunk: the assistant's role, no content yet. */
  role(): ChatCompletionChunk {
    return this.chunk({ role: 'assistant', content: '' }, null);
  }

  content(text: string): ChatCompletionChunk {
    return this.chunk({ content: text }, null);
  }

  /** The last chunk of the choice: its finish reason (usage follows in a chunk of its own). */
  finish(response: AgentResponse, includeUsage: boolean): ChatCompletionChunk {
    const chunk = this.chunk({}, toOpenAiFinishReason(response.finishReason));
    if (includeUsage) chunk.usage = null;
    chunk.openclaw = extension(response);
    return chunk;
  }

  /** `stream_options.include_usage`: the usage chunk, with no choices, before `[DONE]`. */
  usage(response: AgentResponse): ChatCompletionChunk {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [],
      usage: toOpenAiUsage(response.usage),
    };
  }

  private chunk(
    delta: ChatCompletionChunk['choices'][0]['delta'],
    finishReason: OpenAiFinishReason | null,
  ): ChatCompletionChunk {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    };
  }
}
