import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TracingService } from '../src/core/tracing/tracing.service.js';
import { postRpc, startGateway, type TestGateway } from './support/gateway.js';
import { LogCapture } from './support/log-capture.js';
import { OtlpReceiver } from './support/otlp-receiver.js';

// A file of its own: nestjs-pino writes Nest's loggers through the first app a process makes,
// so a suite asserting log lines must own that first app.
describe('log lines with tracing on', () => {
  let receiver: OtlpReceiver;
  let gateway: TestGateway;
  const logs = new LogCapture();

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    gateway = await startGateway(
      { log: { level: 'debug' } },
      {
        env: {
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.endpoint}/v1/traces`,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_SERVICE_NAME: 'gateway-under-test',
        },
        logging: { destination: logs },
      },
    );
  });

  afterAll(async () => {
    await gateway?.close();
    await receiver?.close();
  });

  it('carry trace_id and span_id inside a span, and neither outside one', async () => {
    const traceId = randomBytes(16).toString('hex');
    const parent = randomBytes(8).toString('hex');
    const reply = await postRpc(
      gateway.baseUrl,
      { jsonrpc: '2.0', id: 1, method: 'agent.list', params: {} },
      { headers: { ...gateway.auth, traceparent: `00-${traceId}-${parent}-01` } },
    );
    expect(reply.status).toBe(200);
    await gateway.app.get(TracingService).flush();
    const [span] = receiver.trace(traceId);
    expect(span).toMatchObject({ name: 'agent.list', service: 'gateway-under-test' });

    const call = logs.lines.find((line) => line.msg === 'call' && line.method === 'agent.list');
    expect(call).toMatchObject({ trace_id: traceId, span_id: span.spanId });
    // Boot lines were written outside any span.
    const boot = logs.lines.filter((line) => line.msg !== 'call');
    expect(boot.length).toBeGreaterThan(0);
    for (const line of boot) expect(line).not.toHaveProperty('trace_id');
  });
});
