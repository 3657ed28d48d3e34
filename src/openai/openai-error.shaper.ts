import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpErrorShapes } from '../core/rpc/http-error-shapes.js';
import { fromHttpStatus } from './openai-error.mapper.js';

const PREFIX = '/v1/';

/**
 * Some errors never reach /v1's handlers and filter: a body over `gateway.bodyLimit` (413),
 * malformed JSON, a wrong content type, a draining instance (503). The gateway's HTTP exception
 * filter and draining hook answer those; registered here, they answer them on /v1 in OpenAI's
 * shape, keeping the status, so that OpenAI's clients read every refusal the same way. (A global
 * onSend hook did this before, at about 8% of every /rpc call's cost.)
 */
@Injectable()
export class OpenAiErrorShaper implements OnModuleInit {
  constructor(private readonly shapes: HttpErrorShapes) {}

  onModuleInit(): void {
    this.shapes.register(PREFIX, (status, message) => {
      const error = fromHttpStatus(status, message);
      return { body: error.toBody(), headers: error.headers };
    });
  }
}
