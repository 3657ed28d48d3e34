import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { LogConfig } from '../config/gateway-config.js';
import { attachAccessLog } from './access-log.js';

async function served(access: LogConfig['access'], level: LogConfig['level'] = 'info') {
  const lines: string[] = [];
  const app = Fastify({ genReqId: () => 'req-1' });
  attachAccessLog(app, { write: (line) => lines.push(line) }, { level, access });
  app.get('/ok', () => ({ ok: true }));
  app.get('/health', () => ({ status: 'ok' }));
  await app.inject('/ok?token=secret&x="y"');
  await app.inject('/missing');
  await app.inject('/health');
  await app.close();
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('the access log', () => {
  it('writes one pino-shaped line per request, without the query string or health probes', async () => {
    const lines = await served('all');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 30,
      pid: process.pid,
      req: { id: 'req-1', method: 'GET', path: '/ok' },
      res: { statusCode: 200 },
      msg: 'request completed',
    });
    expect(typeof lines[0].time).toBe('number');
    expect(typeof lines[0].responseTime).toBe('number');
    expect(JSON.stringify(lines)).not.toContain('secret');
    expect(lines[1]).toMatchObject({ req: { path: '/missing' }, res: { statusCode: 404 } });
  });

  it('records only refusals and failures in "errors" mode, nothing when off or above info', async () => {
    expect((await served('errors')).map((line) => line.res)).toEqual([{ statusCode: 404 }]);
    expect(await served('off')).toEqual([]);
    expect(await served('all', 'warn')).toEqual([]);
  });
});
