import { Injectable, Module } from '@nestjs/common';
import { GatewayTool } from '../../src/tools/tool.decorator.js';
import type { Tool, ToolInputSchema, ToolOutput } from '../../src/tools/tool.types.js';
import { postRpc, type TestGateway } from './gateway.js';

@Injectable()
@GatewayTool()
export class WipeTool implements Tool {
  static runs = 0;
  readonly name = 'files.wipe';
  readonly description = 'Deletes a folder.';
  readonly source = 'provider';
  readonly inputSchema: ToolInputSchema = {
    type: 'object',
    properties: { path: { type: 'string' } },
    required: ['path'],
  };
  readonly annotations = { destructiveHint: true };

  execute(args: Record<string, unknown>): Promise<ToolOutput> {
    WipeTool.runs++;
    return Promise.resolve({ content: [{ type: 'text', text: `wiped ${String(args.path)}` }] });
  }
}

@Module({ providers: [WipeTool] })
export class WipeToolModule {}

/** The scopes of a session owner who may also approve (not its own calls, by default). */
export const OWNER = 'sessions:read sessions:write tools:execute tools:approve';

/** JSON-RPC over HTTP as one token. */
export function caller(gateway: () => TestGateway, token: () => string) {
  let seq = 0;
  return async (method: string, params: unknown): Promise<any> => {
    const reply = await postRpc(
      gateway().baseUrl,
      { jsonrpc: '2.0', id: ++seq, method, params },
      { headers: { authorization: `Bearer ${token()}` } },
    );
    return reply.body;
  };
}
