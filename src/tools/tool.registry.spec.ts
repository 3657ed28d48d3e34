import { Injectable } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../core/config/config.loader.js';
import { GatewayErrorCode } from '../core/errors/gateway-error-code.js';
import { ClockNowTool } from './clock-now.tool.js';
import { EchoTool } from './echo.tool.js';
import { GatewayTool } from './tool.decorator.js';
import {
  ToolFailedException,
  ToolInvalidArgumentsException,
  ToolNotFoundException,
} from './tool.exception.js';
import { ToolRegistry } from './tool.registry.js';
import type { Tool, ToolExecutionContext, ToolInputSchema, ToolOutput } from './tool.types.js';

@Injectable()
@GatewayTool()
class UpperTool implements Tool {
  readonly name: string = 'text.upper';
  readonly description = 'Upper-cases text.';
  readonly source = 'provider';
  readonly inputSchema: ToolInputSchema = {
    type: 'object',
    properties: { text: { type: 'string' } },
    required: ['text'],
    additionalProperties: false,
  };
  execute(args: Record<string, unknown>): Promise<ToolOutput> {
    return Promise.resolve({ content: [{ type: 'text', text: String(args.text).toUpperCase() }] });
  }
}

@Injectable()
@GatewayTool()
class ShadowEchoTool extends UpperTool {
  override readonly name = 'echo';
}

/** A tool defined inline; `run` is its execute. */
function tool(
  name: string,
  run: (args: Record<string, unknown>, ctx: ToolExecutionContext) => Promise<ToolOutput>,
  inputSchema: ToolInputSchema = { type: 'object' },
): Tool {
  return { name, description: name, source: 'test', inputSchema, execute: run };
}

async function bootRegistry(
  providers: Array<new (...args: never[]) => unknown> = [],
  toolTimeout = '30s',
): Promise<ToolRegistry> {
  const config = loadConfig({
    env: {},
    ignoreFile: true,
    overrides: { tools: { timeout: toolTimeout } },
  });
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule],
    providers: [ToolRegistry, { provide: config.constructor, useValue: config }, ...providers],
  }).compile();
  await moduleRef.init();
  return moduleRef.get(ToolRegistry);
}

async function thrown(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('ToolRegistry', () => {
  it('lists built-ins and @GatewayTool() providers as descriptors, without execute', async () => {
    const registry = await bootRegistry([UpperTool]);
    const tools = registry.list();
    expect(tools.map((t) => [t.name, t.source])).toEqual([
      ['clock.now', 'builtin'],
      ['echo', 'builtin'],
      ['text.upper', 'provider'],
    ]);
    expect(tools.every((t) => !('execute' in t))).toBe(true);
    expect(await registry.execute('text.upper', { text: 'abc' })).toMatchObject({
      content: [{ type: 'text', text: 'ABC' }],
      isError: false,
    });
  });

  it('fails the boot on a duplicate tool name', async () => {
    await expect(bootRegistry([ShadowEchoTool])).rejects.toThrow('Duplicate tool "echo"');
  });

  it('refuses a duplicate at run time, and accepts the name again once unregistered', async () => {
    const registry = await bootRegistry();
    const ping = tool('mcp.ping', () =>
      Promise.resolve({ content: [{ type: 'text', text: 'pong' }] }),
    );
    registry.register(ping);
    expect(() => registry.register(ping)).toThrow('Duplicate tool "mcp.ping"');
    expect(registry.unregister('mcp.ping')).toBe(true);
    expect(registry.has('mcp.ping')).toBe(false);
    await expect(registry.execute('mcp.ping', {})).rejects.toBeInstanceOf(ToolNotFoundException);
    registry.register(ping);
    expect(registry.has('mcp.ping')).toBe(true);
  });

  it('lists what is registered now: the shared list is rebuilt after each change', async () => {
    const registry = await bootRegistry();
    const names = () => registry.list().map((t) => t.name);
    const before = registry.list();
    expect(registry.list()).toBe(before);
    expect(Object.isFrozen(before)).toBe(true);
    registry.register(tool('mcp.ping', () => Promise.resolve({ content: [] })));
    expect(names()).toContain('mcp.ping');
    expect(before.map((t) => t.name)).not.toContain('mcp.ping');
    registry.unregister('mcp.ping');
    expect(names()).not.toContain('mcp.ping');
    expect(names()).toEqual(before.map((t) => t.name));
  });

  it('refuses a tool whose schema is not an object schema or does not compile', async () => {
    const registry = await bootRegistry();
    const noop = () => Promise.resolve({ content: [] });
    expect(() =>
      registry.register(tool('bad.type', noop, { type: 'string' } as unknown as ToolInputSchema)),
    ).toThrow('must be a JSON Schema of type "object"');
    expect(() =>
      registry.register(
        tool('bad.schema', noop, { type: 'object', properties: { a: { type: 'nonsense' } } }),
      ),
    ).toThrow('Tool "bad.schema": invalid inputSchema');
  });

  it('executes echo and fills durationMs', async () => {
    const registry = await bootRegistry();
    const result = await registry.execute('echo', { text: 'hello' });
    expect(result).toEqual({
      content: [{ type: 'text', text: 'hello' }],
      isError: false,
      durationMs: expect.any(Number),
    });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('throws ToolNotFoundException (NOT_FOUND) for an unknown tool', async () => {
    const registry = await bootRegistry();
    const error = await thrown(registry.execute('nope', {}));
    expect(error).toBeInstanceOf(ToolNotFoundException);
    expect(error.code).toBe(GatewayErrorCode.NOT_FOUND);
  });

  it('reports every schema violation with its path, without coercing', async () => {
    const registry = await bootRegistry();
    registry.register(
      tool('geo.point', () => Promise.resolve({ content: [] }), {
        type: 'object',
        properties: {
          lat: { type: 'number', minimum: -90, maximum: 90 },
          label: { type: 'string' },
          meta: { type: 'object', properties: { at: { type: 'string', format: 'date-time' } } },
        },
        required: ['lat', 'label'],
        additionalProperties: false,
      }),
    );
    const error = await thrown(
      registry.execute('geo.point', { lat: '12', meta: { at: 'yesterday' }, extra: 1 }),
    );
    expect(error).toBeInstanceOf(ToolInvalidArgumentsException);
    expect(error.code).toBe(GatewayErrorCode.INVALID_INPUT);
    expect(error.data.violations).toEqual(
      expect.arrayContaining([
        { path: 'label', message: "must have required property 'label'" },
        { path: 'extra', message: 'property should not exist' },
        { path: 'lat', message: 'must be number' },
        { path: 'meta.at', message: 'must match format "date-time"' },
      ]),
    );
    expect(error.data.violations).toHaveLength(4);
  });

  it('refuses arguments that are not an object', async () => {
    const registry = await bootRegistry();
    const error = await thrown(registry.execute('echo', ['hello']));
    expect(error.data.violations).toEqual([{ path: '', message: 'arguments must be an object' }]);
  });

  it('does not fill defaults into the arguments', async () => {
    const registry = await bootRegistry();
    let received: Record<string, unknown> | undefined;
    registry.register(
      tool(
        'defaults',
        (args) => {
          received = args;
          return Promise.resolve({ content: [] });
        },
        { type: 'object', properties: { n: { type: 'integer', default: 3 } } },
      ),
    );
    await registry.execute('defaults', {});
    expect(received).toEqual({});
  });

  it('aborts the tool and throws TOOL_FAILED with reason timeout past the deadline', async () => {
    const registry = await bootRegistry();
    let aborted: Promise<void> | undefined;
    registry.register(
      tool('slow', (_args, ctx) => {
        aborted = new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
        return new Promise(() => {});
      }),
    );
    const error = await thrown(registry.execute('slow', {}, { timeoutMs: 20 }));
    expect(error).toBeInstanceOf(ToolFailedException);
    expect(error).toMatchObject({
      code: GatewayErrorCode.TOOL_FAILED,
      message: 'Tool "slow" timed out after 20 ms',
      data: { tool: 'slow', reason: 'timeout' },
    });
    await aborted;
  });

  it('uses config.tools.timeout by default', async () => {
    const registry = await bootRegistry([], '30ms');
    registry.register(tool('stuck', () => new Promise(() => {})));
    const error = await thrown(registry.execute('stuck', {}));
    expect(error.data).toEqual({ tool: 'stuck', reason: 'timeout' });
  });

  it('answers a cancelled call with reason cancelled and aborts the tool', async () => {
    const registry = await bootRegistry();
    const controller = new AbortController();
    let toolSignal: AbortSignal | undefined;
    registry.register(
      tool('waits', (_args, ctx) => {
        toolSignal = ctx.signal;
        setImmediate(() => controller.abort());
        return new Promise(() => {});
      }),
    );
    const error = await thrown(registry.execute('waits', {}, { signal: controller.signal }));
    expect(error.data).toEqual({ tool: 'waits', reason: 'cancelled' });
    expect(toolSignal?.aborted).toBe(true);
  });

  it('turns a throwing tool into TOOL_FAILED with a safe message', async () => {
    const registry = await bootRegistry();
    registry.register(
      tool('explodes', () => Promise.reject(new Error('ECONNREFUSED db.internal:5432 password=x'))),
    );
    registry.register(
      tool('throws.sync', () => {
        throw new TypeError('boom');
      }),
    );
    for (const name of ['explodes', 'throws.sync']) {
      const error = await thrown(registry.execute(name, {}));
      expect(error).toBeInstanceOf(ToolFailedException);
      expect(error.message).toBe(`Tool "${name}" failed`);
      expect(error.data).toEqual({ tool: name, reason: 'error' });
      expect(JSON.stringify(error.data)).not.toContain('password');
    }
  });

  it('returns a result with isError true instead of throwing', async () => {
    const registry = await bootRegistry();
    registry.register(
      tool('soft.fail', () =>
        Promise.resolve({ content: [{ type: 'text', text: 'no such city' }], isError: true }),
      ),
    );
    expect(await registry.execute('soft.fail', {})).toMatchObject({
      content: [{ type: 'text', text: 'no such city' }],
      isError: true,
    });
  });

  it('refuses a result that breaks the shape or the outputSchema', async () => {
    const registry = await bootRegistry();
    registry.register(
      tool('garbage', () => Promise.resolve({ nope: true } as unknown as ToolOutput)),
    );
    registry.register({
      ...tool('typed', () => Promise.resolve({ content: [], structuredContent: { n: 'x' } })),
      outputSchema: { type: 'object', properties: { n: { type: 'number' } } },
    });
    for (const name of ['garbage', 'typed']) {
      expect((await thrown(registry.execute(name, {}))).data).toEqual({
        tool: name,
        reason: 'invalid-result',
      });
    }
  });

  it("the built-in tools' schemas, compiled without the meta-schema check, pass it", () => {
    const ajv = new Ajv({ strict: false });
    const builtIns: Tool[] = [new EchoTool(), new ClockNowTool()];
    for (const tool of builtIns) {
      for (const schema of [tool.inputSchema, tool.outputSchema].filter(Boolean)) {
        expect(ajv.validateSchema(schema as object), `${tool.name}: ${ajv.errorsText()}`).toBe(
          true,
        );
      }
    }
  });
});
