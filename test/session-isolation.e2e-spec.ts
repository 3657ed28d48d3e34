import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from './support/auth-tokens.js';
import { postRpc, startGateway, WsTestClient, type TestGateway } from './support/gateway.js';

const USER_SCOPES = 'sessions:read sessions:write tools:execute agents:read tools:read';
let gateway: TestGateway;
let alice: Record<string, string>;
let bob: Record<string, string>;
let admin: Record<string, string>;
let sessionKey: string;

const bearer = async (sub: string, scope: string) => ({
  authorization: `Bearer ${await signToken({ sub, scope })}`,
});

async function call(headers: Record<string, string>, method: string, params: unknown) {
  return (await postRpc(gateway.baseUrl, { jsonrpc: '2.0', id: 1, method, params }, { headers }))
    .body;
}

beforeAll(async () => {
  gateway = await startGateway();
  alice = await bearer('alice', USER_SCOPES);
  bob = await bearer('bob', USER_SCOPES);
  admin = await bearer('root', 'admin');
  sessionKey = (await call(alice, 'session.create', {})).result.sessionKey;
  await call(alice, 'session.message', { sessionKey, content: 'private words' });
});
afterAll(() => gateway?.close());

describe('a session belongs to the subject that created it', () => {
  it.each([
    ['session.message', () => ({ sessionKey, content: 'let me in' })],
    ['session.history', () => ({ sessionKey })],
    ['session.end', () => ({ sessionKey })],
    ['tools.execute', () => ({ name: 'echo', arguments: { text: 'x' }, sessionKey })],
  ])(
    'answers %s from another subject with -32004, as if it did not exist',
    async (method, params) => {
      const reply = await call(bob, method, params());
      expect(reply.error.code).toBe(-32004);
      const unknown = await call(bob, method, {
        ...params(),
        sessionKey: 'ses_doesnotexist0000000000',
      });
      // Same code, message and shape as for a session that does not exist: nothing leaks.
      expect(unknown.error.code).toBe(reply.error.code);
      const unknownKey = 'ses_doesnotexist0000000000';
      expect(unknown.error.message).toBe(reply.error.message.replace(sessionKey, unknownKey));
      expect(Object.keys(unknown.error.data ?? {})).toEqual(Object.keys(reply.error.data ?? {}));
    },
  );

  it('leaves the owner’s log untouched by the other subject’s attempts', async () => {
    const history = (await call(alice, 'session.history', { sessionKey })).result;
    expect(history.map((e: any) => e.type)).toEqual([
      'session.created',
      'message.user',
      'message.agent',
    ]);
  });

  it('does not stream another subject’s session over WebSocket', async () => {
    const ws = await WsTestClient.connect(gateway.wsUrl, { headers: bob });
    const reply = await ws.call('session.history', { sessionKey }, 'h');
    expect(reply.error.code).toBe(-32004);
    await call(alice, 'session.message', { sessionKey, content: 'still private' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(ws.frames).toEqual([]);
    ws.close();
  });

  it('lets admin read every session, and lists them only for admin', async () => {
    expect((await call(admin, 'session.history', { sessionKey })).result.length).toBeGreaterThan(2);
    const listed = (await call(admin, 'sessions.list', {})).result;
    expect(listed.map((s: any) => s.sessionKey)).toContain(sessionKey);
    const denied = await call(alice, 'sessions.list', {});
    expect(denied.error).toMatchObject({ code: -32003, data: { requiredScope: 'admin' } });
  });

  it('refuses a method whose scope the token lacks, naming the scope', async () => {
    const reader = await bearer('carol', 'sessions:read');
    const reply = await call(reader, 'session.create', {});
    expect(reply.error).toMatchObject({ code: -32003, data: { requiredScope: 'sessions:write' } });
  });
});
