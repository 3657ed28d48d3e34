import {
  Injectable,
  Module,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Public } from '../src/core/identity/public.decorator.js';
import { getRpcCallContext } from '../src/core/rpc/rpc-call-context.js';
import {
  RPC_METHOD_METADATA,
  RpcMethod,
  type RpcMethodMetadata,
} from '../src/core/rpc/rpc-method.decorator.js';
import { createGatewayApp } from '../src/gateway.factory.js';
import { GatewayBuilder } from '../src/gateway.builder.js';
import { DATABASE_MIGRATIONS } from '../src/core/database/database-url.js';
import { CalculatorModule } from './support/calculator.rpc.js';
import { postgresUrl, reportMissingPostgres, sqliteUrl } from './support/databases.js';
import {
  postRpc,
  rpcOver,
  startGateway,
  WsTestClient,
  type TestGateway,
} from './support/gateway.js';
import {
  CreateTestNotes1800000000000,
  NOTES_DATABASE,
  NotesModule,
} from './support/notes.module.js';

const postgresAvailable = (await postgresUrl()) !== undefined;
if (!postgresAvailable) reportMissingPostgres('extension e2e');

/** A global guard defined outside the core: it must see every call with its method and metadata. */
@Injectable()
class RecordingGuard implements CanActivate {
  readonly seen: Array<{ method: string; transport: string; scope?: string }> = [];
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const call = getRpcCallContext(context);
    if (!call) return true; // plain HTTP routes
    const metadata = this.reflector.get<RpcMethodMetadata>(
      RPC_METHOD_METADATA,
      context.getHandler(),
    );
    this.seen.push({ method: metadata.name, transport: call.transport, scope: metadata.scope });
    const params = call.params as { values?: number[] } | undefined;
    return !params?.values?.includes(13);
  }
}

@Injectable()
class OnlyEvenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const params = getRpcCallContext(context)?.params as { n: number };
    return params.n % 2 === 0;
  }
}

@Injectable()
class ParityRpc {
  @Public()
  @UseGuards(OnlyEvenGuard)
  @RpcMethod('parity.half')
  half(): string {
    return 'even';
  }
}

@Module({
  imports: [CalculatorModule],
  providers: [
    RecordingGuard,
    { provide: APP_GUARD, useExisting: RecordingGuard },
    ParityRpc,
    OnlyEvenGuard,
  ],
})
class GuardedModule {}

let gateway: TestGateway;
beforeAll(async () => {
  gateway = await startGateway({}, { imports: [GuardedModule] });
});
afterAll(() => gateway?.close());

describe('extending the gateway with a module', () => {
  it('dispatches a method from a module added only in the tests', async () => {
    const reply = await postRpc(gateway.baseUrl, {
      jsonrpc: '2.0',
      method: 'subtract',
      params: { minuend: 5, subtrahend: 3 },
      id: 1,
    });
    expect(reply.body).toEqual({ jsonrpc: '2.0', id: 1, result: 2 });
  });

  it('runs the global guard for every element of a batch, over HTTP and WebSocket', async () => {
    const guard = gateway.app.get(RecordingGuard);
    guard.seen.length = 0;
    const batch = [
      { jsonrpc: '2.0', method: 'sum', params: { values: [1] }, id: 1 },
      { jsonrpc: '2.0', method: 'sum', params: { values: [13] }, id: 2 },
      { jsonrpc: '2.0', method: 'get_data' },
    ];
    const reply = await postRpc(gateway.baseUrl, batch);
    const byId = Object.fromEntries(reply.body.map((r: any) => [r.id, r]));
    expect(byId[1].result).toBe(1);
    expect(byId[2].error).toEqual({ code: -32003, message: 'Forbidden' });
    expect(
      guard.seen
        .filter((s) => s.transport === 'http')
        .map((s) => s.method)
        .sort(),
    ).toEqual(['get_data', 'sum', 'sum']);

    const ws = await WsTestClient.connect(gateway.wsUrl, { headers: gateway.auth });
    ws.send(batch);
    const frame = await ws.next();
    expect(frame).toHaveLength(2);
    expect(guard.seen.filter((s) => s.transport === 'ws')).toHaveLength(3);
    ws.close();
  });

  it('runs a method’s own guards per call, before params are validated', async () => {
    const guard = gateway.app.get(RecordingGuard);
    const odd = await postRpc(gateway.baseUrl, {
      jsonrpc: '2.0',
      method: 'parity.half',
      params: { n: 3 },
      id: 1,
    });
    expect(odd.body.error.code).toBe(-32003);
    // Even passes the guard and then fails validation: the method declares no params.
    const even = await postRpc(gateway.baseUrl, {
      jsonrpc: '2.0',
      method: 'parity.half',
      params: { n: 2 },
      id: 2,
    });
    expect(even.body.error.code).toBe(-32602);
    expect(guard.seen.at(-1)).toMatchObject({ method: 'parity.half' });
  });
});

describe('the method table at boot', () => {
  async function bootWith(provider: new () => object): Promise<unknown> {
    @Module({ providers: [provider] })
    class BadModule {}
    try {
      const app = await createGatewayApp({
        configFile: false,
        env: {},
        config: { log: { level: 'silent' } },
        imports: [CalculatorModule, BadModule],
      });
      await app.close();
      return undefined;
    } catch (error) {
      return error;
    }
  }

  it('refuses a duplicate method name', async () => {
    @Injectable()
    class Duplicate {
      @Public()
      @RpcMethod('subtract')
      subtract(): number {
        return 0;
      }
    }
    expect(String(await bootWith(Duplicate))).toMatch(/Duplicate JSON-RPC method "subtract"/);
  });

  it('refuses a method in the reserved rpc. namespace', async () => {
    @Injectable()
    class Reserved {
      @Public()
      @RpcMethod('rpc.mine')
      mine(): number {
        return 0;
      }
    }
    expect(String(await bootWith(Reserved))).toMatch(/reserved "rpc\." prefix/);
  });

  it('refuses a method that is neither scoped nor @Public()', async () => {
    @Injectable()
    class Unguarded {
      @RpcMethod('open.door')
      open(): number {
        return 0;
      }
    }
    expect(String(await bootWith(Unguarded))).toMatch(/declares no scope and is not @Public\(\)/);
  });
});

describe.each([
  { engine: 'SQLite', url: () => Promise.resolve(sqliteUrl()), skip: false },
  { engine: 'PostgreSQL', url: async () => (await postgresUrl())!, skip: !postgresAvailable },
])('an extension module with its own table, on $engine', ({ url, skip }) => {
  const builtIn = DATABASE_MIGRATIONS.map((migration) => migration.name);

  it.skipIf(skip)('creates its table at boot and serves methods that use it', async () => {
    const gateway = await startGateway(
      { database: { url: await url() } },
      { imports: [NotesModule], database: NOTES_DATABASE },
    );
    try {
      const { ok } = rpcOver(() => gateway);
      expect(await ok('notes.add', { content: 'buy milk' })).toMatchObject({
        owner: 'test-user',
        content: 'buy milk',
      });
      await ok('notes.add', { content: 'call Bob' });
      expect(await ok('notes.list')).toEqual(['buy milk', 'call Bob']);
      // Built-in tables are there as before.
      expect(await ok('session.create', {})).toHaveProperty('sessionKey');
    } finally {
      await gateway.close();
    }
  });

  it.skipIf(skip)(
    'is migrated by GatewayBuilder.migrate() with the built-in schema, for boots that do not migrate',
    async () => {
      const databaseUrl = await url();
      const builder = () =>
        new GatewayBuilder()
          .isolated()
          .withEventStore(databaseUrl)
          .withModule(NotesModule, NOTES_DATABASE);

      const applied = await builder().migrate();
      expect(applied.sort()).toEqual([...builtIn, CreateTestNotes1800000000000.name].sort());
      expect(await builder().migrate()).toEqual([]);

      const gateway = await startGateway(
        { database: { url: databaseUrl, migrationsRun: false } },
        { imports: [NotesModule], database: NOTES_DATABASE },
      );
      try {
        const { ok } = rpcOver(() => gateway);
        await ok('notes.add', { content: 'stored' });
        expect(await ok('notes.list')).toEqual(['stored']);
      } finally {
        await gateway.close();
      }
    },
  );
});
