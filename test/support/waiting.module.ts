import { Injectable, Module } from '@nestjs/common';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { Public } from '../../src/core/identity/public.decorator.js';
import type { RpcCallContext } from '../../src/core/rpc/rpc-call-context.js';
import { RpcMethod } from '../../src/core/rpc/rpc-method.decorator.js';
import { GatewayTool } from '../../src/tools/tool.decorator.js';
import type { Tool, ToolExecutionContext, ToolOutput } from '../../src/tools/tool.types.js';

export class WaitParams {
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(30_000)
  ms?: number;
}

/** Resolves after `ms`, or when `signal` aborts (then with its reason). */
function waitFor(ms: number, signal?: AbortSignal): Promise<'elapsed' | 'aborted'> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve('aborted');
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve('elapsed');
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve('aborted');
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A promise with its resolver, for tests to await "it has started". */
export class Latch {
  resolve!: () => void;
  promise = new Promise<void>((resolve) => (this.resolve = resolve));
  reset(): void {
    this.promise = new Promise<void>((resolve) => (this.resolve = resolve));
  }
}

/** Calls that take their time, for the cancellation tests: they tell when they start and stop. */
@Injectable()
export class WaitingRpc {
  readonly started = new Latch();
  /** How each call ended, in order: `elapsed` or `aborted`. */
  readonly outcomes: string[] = [];

  @Public()
  @RpcMethod('wait.forCancel', { params: WaitParams })
  async forCancel(params: WaitParams, ctx: RpcCallContext): Promise<string> {
    this.started.resolve();
    const outcome = await waitFor(params.ms ?? 20_000, ctx.signal);
    this.outcomes.push(outcome);
    return outcome;
  }

  /** Never looks at its signal: a cancelled call must still answer -32800. */
  @Public()
  @RpcMethod('wait.ignoring', { params: WaitParams })
  async ignoring(params: WaitParams): Promise<string> {
    this.started.resolve();
    await waitFor(params.ms ?? 200);
    return 'elapsed';
  }
}

/** A tool that runs until it is aborted (or 20 s): `aborted` says whether its signal fired. */
@GatewayTool()
@Injectable()
export class WaitingTool implements Tool {
  readonly name = 'wait.slow';
  readonly description = 'Waits until cancelled.';
  readonly source = 'provider';
  readonly inputSchema = { type: 'object' as const, properties: {} };
  readonly started = new Latch();
  readonly aborted = new Latch();
  runs = 0;
  aborts = 0;

  async execute(_args: Record<string, unknown>, ctx: ToolExecutionContext): Promise<ToolOutput> {
    this.runs++;
    this.started.resolve();
    const outcome = await waitFor(20_000, ctx.signal);
    if (outcome === 'aborted') {
      this.aborts++;
      this.aborted.resolve();
    }
    return { content: [{ type: 'text', text: outcome }] };
  }
}

@Module({ providers: [WaitingRpc, WaitingTool], exports: [WaitingRpc, WaitingTool] })
export class WaitingModule {}
