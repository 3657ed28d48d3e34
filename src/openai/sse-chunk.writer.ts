import type { Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { ChatCompletionChunk } from './chat-completion.mapper.js';
import { mapOpenAiError } from './openai-error.mapper.js';

/** Where a streamed answer goes, chunk by chunk. */
export interface ChunkSink {
  send(chunk: ChatCompletionChunk): void;
  /** The turn failed after chunks were sent: an error event ends the stream. */
  fail(error: unknown): void;
  /** `data: [DONE]`, and the end of the response. */
  end(): void;
}

/**
 * Server-Sent Events on a Fastify reply, started lazily by the first chunk: until then nothing is
 * written, so a turn that fails before its first token still gets a plain HTTP error with its
 * status. Writes after the client left are dropped (its turn is being cancelled). A stream's
 * buffered size is bounded by the answer itself (`sessions.maxEventBytes`).
 */
export class SseChunkWriter implements ChunkSink {
  private started = false;

  constructor(
    private readonly reply: FastifyReply,
    private readonly correlationId: string,
    private readonly logger: Logger,
  ) {}

  get hasStarted(): boolean {
    return this.started;
  }

  send(chunk: ChatCompletionChunk): void {
    this.start();
    this.write(`data: ${JSON.stringify(chunk)}\n\n`);
  }

  fail(thrown: unknown): void {
    const { error, unexpected } = mapOpenAiError(thrown, this.correlationId);
    if (unexpected) {
      this.logger.error({ err: thrown, correlationId: this.correlationId }, 'stream failed');
    }
    // OpenAI's SDKs raise an APIError for a data event that holds `error`.
    this.start();
    this.write(`data: ${JSON.stringify(error.toBody())}\n\n`);
    this.close();
  }

  end(): void {
    this.start();
    this.write('data: [DONE]\n\n');
    this.close();
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.reply.hijack();
    // Headers already set on the reply (the session, rate limits) go out with the stream's.
    const set = Object.entries(this.reply.getHeaders()).filter(
      (entry): entry is [string, string | number | string[]] => entry[1] !== undefined,
    );
    this.reply.raw.writeHead(200, {
      ...Object.fromEntries(set),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // Proxies that buffer responses (nginx) would hold the tokens back.
      'x-accel-buffering': 'no',
    });
  }

  private write(text: string): void {
    const raw = this.reply.raw;
    if (!raw.destroyed && !raw.writableEnded) raw.write(text);
  }

  private close(): void {
    const raw = this.reply.raw;
    if (!raw.destroyed && !raw.writableEnded) raw.end();
  }
}
