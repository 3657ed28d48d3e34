import type { ChatCompletionRequest, ChatMessage } from './chat-completion.request.js';
import { OpenAiError } from './openai-error.js';

/** What one chat completions call sends to its session: one user turn. */
export interface ChatTurnInput {
  /** The last message's text: the turn's content. */
  content: string;
  /** Messages of the request that were not used (all but the last), for X-OpenClaw-Ignored-Messages. */
  ignoredMessages: number;
  stream: boolean;
  includeUsage: boolean;
}

export interface ChatTurnRules {
  /** The call continues a session (X-OpenClaw-Session): its event log is the conversation. */
  continuing: boolean;
  /** `sessions.maxContentLength`: a longer turn is refused with 413. */
  maxContentLength: number;
}

/** Roles that carry instructions; the agent's own instructions are its configuration. */
const INSTRUCTION_ROLES = new Set<ChatMessage['role']>(['system', 'developer']);

/**
 * Translates a validated request into a session turn, with the rules the README states:
 * - the last message must be the user's: its text is the turn's content;
 * - `system`/`developer` messages are ignored (the agent's instructions are configured on the
 *   gateway);
 * - when continuing a session, earlier messages are ignored: the session's event log is the
 *   conversation; a new session refuses earlier user/assistant/tool messages, rather than
 *   answer without a history the client believes it sent;
 * - client-side `tools`/`functions`, `n` > 1, `logprobs` and a non-text `response_format` are
 *   refused: the agent's own tools run on the gateway, and one answer is made per turn.
 * Every refusal is a 400 naming the param (413 for content over the limit).
 */
export function toChatTurnInput(
  request: ChatCompletionRequest,
  rules: ChatTurnRules,
): ChatTurnInput {
  refuseUnsupported(request);
  const { messages } = request;
  const lastIndex = messages.length - 1;
  const last = messages[lastIndex];
  if (last.role !== 'user') {
    throw OpenAiError.invalidRequest(
      `The last message must be the user's (got "${last.role}"): it is the turn's content`,
      'invalid_value',
      `messages[${lastIndex}].role`,
    );
  }
  if (!rules.continuing) {
    const history = messages.findIndex((m, i) => i < lastIndex && !INSTRUCTION_ROLES.has(m.role));
    if (history >= 0) {
      throw OpenAiError.invalidRequest(
        'A new session starts from a single user message: earlier user, assistant or tool messages cannot be replayed into it. Send only the new message, with the header X-OpenClaw-Session: <sessionKey> from the previous response to continue that conversation',
        'conversation_not_supported',
        `messages[${history}]`,
      );
    }
  }
  const content = textOf(last, lastIndex);
  if (content.trim() === '') {
    throw OpenAiError.invalidRequest(
      "The user's message must not be empty",
      'invalid_value',
      `messages[${lastIndex}].content`,
    );
  }
  if (content.length > rules.maxContentLength) {
    throw OpenAiError.tooLarge(
      `The user's message is too long (${content.length} characters > ${rules.maxContentLength})`,
      `messages[${lastIndex}].content`,
    );
  }
  return {
    content,
    ignoredMessages: lastIndex,
    stream: request.stream === true,
    includeUsage: request.stream === true && request.stream_options?.include_usage === true,
  };
}

function refuseUnsupported(request: ChatCompletionRequest): void {
  for (const param of ['tools', 'functions'] as const) {
    const value = request[param];
    if (Array.isArray(value) && value.length > 0) {
      throw OpenAiError.invalidRequest(
        `Client-side ${param} are not supported: the agent calls its own tools on the gateway (send no "${param}")`,
        'unsupported_parameter',
        param,
      );
    }
  }
  for (const param of ['tool_choice', 'function_call'] as const) {
    const value = request[param];
    if (value !== undefined && value !== null && value !== 'none' && value !== 'auto') {
      throw OpenAiError.invalidRequest(
        `"${param}" can only be "auto" or "none": client-side tools are not supported`,
        'unsupported_parameter',
        param,
      );
    }
  }
  if (typeof request.n === 'number' && request.n > 1) {
    throw OpenAiError.invalidRequest(
      'Only n = 1 is supported: a turn has one answer',
      'unsupported_parameter',
      'n',
    );
  }
  if (request.logprobs === true) {
    throw OpenAiError.invalidRequest(
      'logprobs are not supported',
      'unsupported_parameter',
      'logprobs',
    );
  }
  const format = request.response_format?.type;
  if (format !== undefined && format !== 'text') {
    throw OpenAiError.invalidRequest(
      `response_format "${format}" is not supported: the agent's configuration decides its output`,
      'unsupported_parameter',
      'response_format',
    );
  }
}

/** A message's text: a string, or its text parts joined by newlines; other parts are refused. */
function textOf(message: ChatMessage, index: number): string {
  const { content } = message;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part, j) => {
      if (part.type !== 'text' || typeof part.text !== 'string') {
        throw OpenAiError.invalidRequest(
          `Only text content parts are supported (got "${part.type}")`,
          'unsupported_content',
          `messages[${index}].content[${j}].type`,
        );
      }
      return part.text;
    })
    .join('\n');
}
