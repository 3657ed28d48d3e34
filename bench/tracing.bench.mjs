// What OpenTelemetry tracing costs on POST /rpc agent.list, 50 connections: the same gateway
// build with tracing off (no OTEL_* set: one boolean check per call) and on (a span per call,
// batched and exported as OTLP/HTTP JSON to a collector in another process), in the same run.
// A third run has every call carry an incoming traceparent, as a traced client's calls would.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import {
  compare,
  freePort,
  loadAgentList,
  printReport,
  report,
  ROOT,
  SECONDS,
  startGateway,
  token,
} from './support.mjs';

const CONNECTIONS = 50;
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

async function startSink() {
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'bench/otlp-sink.mjs'), String(port)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let tries = 0; ; tries++) {
    const up = await fetch(`${url}/health`).then(
      (response) => response.ok,
      () => false,
    );
    if (up) break;
    if (tries > 100) throw new Error('the OTLP sink did not start');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    counts: async () => (await fetch(`${url}/count`)).json(),
    close: () => child.kill('SIGTERM'),
  };
}

async function measure(server, headers) {
  try {
    return await loadAgentList(server.baseUrl, headers, CONNECTIONS);
  } finally {
    await server.close();
  }
}

const auth = { authorization: `Bearer ${await token()}` };
const unlimited = { rateLimit: { client: { limit: 1_000_000_000, ttl: '1h' } } };
const sink = await startSink();
const tracedEnv = {
  OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
};
try {
  const off = await measure(await startGateway(unlimited), auth);
  const on = await measure(await startGateway(unlimited, { env: tracedEnv }), auth);
  const joined = await measure(await startGateway(unlimited, { env: tracedEnv }), {
    ...auth,
    traceparent: TRACEPARENT,
  });
  const { spans } = await sink.counts();

  compare('POST /rpc, tracing on vs off', 'req/s', off.rps, on.rps);
  compare('POST /rpc, tracing on with incoming traceparent vs off', 'req/s', off.rps, joined.rps);
  report('tracing cost (1 - on / off)', (1 - on.rps / off.rps) * 100, '%');
  report('p99 latency, tracing off', off.p99, 'ms');
  report('p99 latency, tracing on', on.p99, 'ms');
  // Under saturation the batch processor's queue (OTEL_BSP_MAX_QUEUE_SIZE) drops what it cannot
  // export in time rather than slow calls down: spans exported / calls made says how much.
  const calls = (on.rps + joined.rps) * SECONDS;
  report('spans exported / traced calls', (spans / calls) * 100, '%');
} finally {
  sink.close();
}
printReport(`POST /rpc with and without tracing, ${CONNECTIONS} connections`, 'tracing');
