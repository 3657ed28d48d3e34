import { describe, expect, it } from 'vitest';
import type { GatewayTracer } from '../tracing/gateway-tracer.js';
import { createRootLogger } from './root-logger.js';

function capture(): { lines: Array<Record<string, unknown>>; write(line: string): void } {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) };
}

describe('createRootLogger', () => {
  it('adds the active span ids to each line with a tracer, and nothing outside a span', () => {
    const out = capture();
    let ids: { trace_id: string; span_id: string } | undefined = { trace_id: 't', span_id: 's' };
    const tracer = { activeIds: () => ids } as unknown as GatewayTracer;
    const root = createRootLogger({ level: 'info' } as never, out, tracer);
    root.logger.info('inside');
    ids = undefined;
    root.logger.info('outside');
    expect(out.lines[0]).toMatchObject({ msg: 'inside', trace_id: 't', span_id: 's' });
    expect(out.lines[1]).not.toHaveProperty('trace_id');
  });

  it('adds no trace fields without a tracer', () => {
    const out = capture();
    createRootLogger({ level: 'info' } as never, out).logger.info('line');
    expect(Object.keys(out.lines[0]).sort()).toEqual(['hostname', 'level', 'msg', 'pid', 'time']);
  });
});
