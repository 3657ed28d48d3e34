import { Injectable, Module } from '@nestjs/common';
import { IsArray, IsInt, IsNumber, IsOptional, Max, Min } from 'class-validator';
import { Public } from '../../src/core/identity/public.decorator.js';
import { RpcMethod } from '../../src/core/rpc/rpc-method.decorator.js';
import type { RpcCallContext } from '../../src/core/rpc/rpc-call-context.js';

export class SubtractParams {
  @IsNumber()
  minuend: number;

  @IsNumber()
  subtrahend: number;
}

export class SumParams {
  @IsArray()
  @IsNumber({}, { each: true })
  values: number[];
}

export class SleepParams {
  @IsInt()
  @Min(0)
  @Max(10_000)
  ms: number;

  @IsOptional()
  @IsInt()
  tag?: number;
}

/** An extension provider defined only in the tests: the gateway must dispatch it unchanged. */
@Injectable()
export class CalculatorRpc {
  readonly notifications: string[] = [];
  /** Concurrency of `sleep` calls, to observe the in-flight bound. */
  active = 0;
  maxActive = 0;

  @Public()
  @RpcMethod('subtract', { params: SubtractParams, description: 'minuend - subtrahend' })
  subtract(params: SubtractParams): number {
    return params.minuend - params.subtrahend;
  }

  @Public()
  @RpcMethod('sum', { params: SumParams })
  sum(params: SumParams): number {
    return params.values.reduce((a, b) => a + b, 0);
  }

  @Public()
  @RpcMethod('get_data')
  getData(): unknown[] {
    return ['hello', 5];
  }

  @Public()
  @RpcMethod('notify_hello', { params: SumParams })
  notifyHello(params: SumParams): void {
    this.notifications.push(`hello ${params.values.join(',')}`);
  }

  @Public()
  @RpcMethod('explode')
  explode(): never {
    throw new Error('secret internals: password=hunter2');
  }

  @Public()
  @RpcMethod('sleep', { params: SleepParams })
  async sleep(params: SleepParams, ctx: RpcCallContext): Promise<number | undefined> {
    this.maxActive = Math.max(this.maxActive, ++this.active);
    try {
      await new Promise((resolve) => setTimeout(resolve, params.ms));
    } finally {
      this.active--;
    }
    return ctx.isNotification ? undefined : (params.tag ?? params.ms);
  }

  @Public()
  @RpcMethod('blob')
  blob(): string {
    return 'x'.repeat(100_000);
  }

  @RpcMethod('private.thing', { scope: 'admin' })
  privateThing(): string {
    return 'ok';
  }
}

@Module({ providers: [CalculatorRpc], exports: [CalculatorRpc] })
export class CalculatorModule {}
