import { ToolInvalidArgumentsException } from './tool.exception.js';
import type { JsonSchema, Tool, ToolInputSchema, ToolOutput } from './tool.types.js';
import { textContent } from './tool.types.js';

/** Built-in `clock.now`: the current time, as ISO 8601 UTC, epoch ms and wall time in a zone. */
export class ClockNowTool implements Tool {
  readonly name = 'clock.now';
  readonly description =
    'The current time: ISO 8601 (UTC), epoch milliseconds, and the local time in an optional IANA time zone.';
  readonly source = 'builtin';
  readonly inputSchema: ToolInputSchema = {
    type: 'object',
    properties: {
      timeZone: {
        type: 'string',
        minLength: 1,
        maxLength: 64,
        description: 'IANA time zone such as "Europe/Paris" (default UTC).',
      },
    },
    additionalProperties: false,
  };
  readonly outputSchema: JsonSchema = {
    type: 'object',
    properties: {
      iso: { type: 'string', format: 'date-time' },
      epochMs: { type: 'integer' },
      timeZone: { type: 'string' },
      local: { type: 'string' },
    },
    required: ['iso', 'epochMs', 'timeZone', 'local'],
    additionalProperties: false,
  };
  readonly annotations = { title: 'Current time', readOnlyHint: true, openWorldHint: false };

  constructor(private readonly now: () => Date = () => new Date()) {}

  execute(args: Record<string, unknown>): Promise<ToolOutput> {
    // The executor turns an invalid time zone into a rejection rather than a synchronous throw.
    return new Promise((resolve) => resolve(this.read(args)));
  }

  private read(args: Record<string, unknown>): ToolOutput {
    const timeZone = (args.timeZone as string | undefined) ?? 'UTC';
    const format = localFormat(timeZone);
    const now = this.now();
    const structuredContent = {
      iso: now.toISOString(),
      epochMs: now.getTime(),
      timeZone: format.resolvedOptions().timeZone,
      local: format.format(now),
    };
    return {
      content: [textContent(`${structuredContent.iso} (${structuredContent.local} ${timeZone})`)],
      structuredContent,
    };
  }
}

// The zone list depends on the ICU data Node ships with, so a JSON Schema enum would lie: ask Intl.
function localFormat(timeZone: string): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat('sv-SE', {
      timeZone,
      dateStyle: 'short',
      timeStyle: 'medium',
    });
  } catch {
    throw new ToolInvalidArgumentsException('clock.now', [
      { path: 'timeZone', message: 'must be an IANA time zone such as "Europe/Paris"' },
    ]);
  }
}
