import type { Tool, ToolInputSchema, ToolOutput } from './tool.types.js';
import { textContent } from './tool.types.js';

/** Built-in `echo`: returns its `text` argument; handy to check the tool path end to end. */
export class EchoTool implements Tool {
  readonly name = 'echo';
  readonly description = 'Returns the given text unchanged.';
  readonly source = 'builtin';
  readonly inputSchema: ToolInputSchema = {
    type: 'object',
    properties: { text: { type: 'string', description: 'The text to return.' } },
    required: ['text'],
    additionalProperties: false,
  };
  readonly annotations = { title: 'Echo', readOnlyHint: true, idempotentHint: true };

  execute(args: Record<string, unknown>): Promise<ToolOutput> {
    return Promise.resolve({ content: [textContent(args.text as string)] });
  }
}
