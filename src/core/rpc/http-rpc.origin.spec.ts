import { EventEmitter } from 'node:events';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { trustedProxies } from './client-ip.js';
import { HttpRpcOrigin } from './http-rpc.origin.js';

function exchange(peer = '10.0.0.1', headers: Record<string, string> = {}) {
  const response = Object.assign(new EventEmitter(), { destroyed: false, writableEnded: false });
  const socket = { destroyed: false };
  const request = { ip: peer, headers, id: 'req-1', raw: { id: 'req-1', socket } };
  const reply = { raw: response };
  return {
    request: request as unknown as FastifyRequest,
    reply: reply as unknown as FastifyReply,
    response,
    socket,
  };
}

describe('HttpRpcOrigin', () => {
  it("resolves the client's address through the trusted proxies, once", () => {
    const { request, reply } = exchange('10.0.0.1', { 'x-forwarded-for': '203.0.113.9' });
    const origin = new HttpRpcOrigin(request, reply, trustedProxies(['10.0.0.0/8']));
    expect(origin.ip).toBe('203.0.113.9');
    expect(origin.ip).toBe('203.0.113.9');
    expect(origin.correlationId).toBe('req-1');
    expect(origin.transport).toBe('http');
  });

  it('watches the connection only once the signal is read, and cancels when the client leaves', () => {
    const { request, reply, response } = exchange();
    const origin = new HttpRpcOrigin(request, reply, trustedProxies([]));
    expect(response.listenerCount('close')).toBe(0);
    const signal = origin.signal;
    expect(response.listenerCount('close')).toBe(1);
    response.emit('close');
    expect(signal.aborted).toBe(true);
    origin.release();
    expect(response.listenerCount('close')).toBe(0);
  });

  it('does not cancel a call whose reply was written, and is cancelled at once on a dead socket', () => {
    const answered = exchange();
    const origin = new HttpRpcOrigin(answered.request, answered.reply, trustedProxies([]));
    const signal = origin.signal;
    answered.response.writableEnded = true;
    answered.response.emit('close');
    expect(signal.aborted).toBe(false);

    const gone = exchange();
    gone.socket.destroyed = true;
    const late = new HttpRpcOrigin(gone.request, gone.reply, trustedProxies([]));
    expect(late.signal.aborted).toBe(true);
    late.release();
  });
});
