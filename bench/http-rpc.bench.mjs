// POST /rpc agent.list, 50 connections: the full gateway (JWT, both rate limits, params
// validation, dispatch, metrics, access log) against bare Fastify doing the same JSON-RPC call
// with the same HS256 check, and against a bare Nest controller on the same adapter (what the
// framework itself costs). Also checks that throughput holds steady over the run (the limiter's
// store is O(1) a hit), and what the access log costs (`log.access` all against off).
import {
  atLeast,
  compare,
  lateOverEarly,
  loadAgentList,
  printReport,
  report,
  startFloor,
  startGateway,
  token,
} from './support.mjs';

const CONNECTIONS = 50;
const run = (baseUrl, headers) => loadAgentList(baseUrl, headers, CONNECTIONS);

const headers = { authorization: `Bearer ${await token()}` };
// One subject at a limit no run reaches, so every call goes through the limiter and passes.
const unlimited = { rateLimit: { client: { limit: 1_000_000_000, ttl: '1h' } } };

async function measure(start) {
  const server = await start();
  try {
    return await run(server.baseUrl, headers);
  } finally {
    await server.close();
  }
}

const floor = await measure(() => startFloor());
const nest = await measure(() => startFloor({ nest: true }));
const gateway = await measure(() => startGateway(unlimited));
const quiet = await measure(() => startGateway({ ...unlimited, log: { access: 'off' } }));

// The target is 0.70 of bare Fastify; where Nest's own routing already costs more than that
// allows (bare Nest under 0.70 / 0.90 of Fastify), the gateway must be within 0.90 of bare Nest.
const nestIsTheLimit = nest.rps / floor.rps < 0.7 / 0.9;
compare(
  'POST /rpc vs bare Fastify (HS256)',
  'req/s',
  floor.rps,
  gateway.rps,
  nestIsTheLimit ? undefined : 0.7,
);
compare(
  'POST /rpc vs bare Nest controller (HS256)',
  'req/s',
  nest.rps,
  gateway.rps,
  nestIsTheLimit ? 0.9 : undefined,
);
compare('bare Nest vs bare Fastify (the framework)', 'req/s', floor.rps, nest.rps);
report('floor p99 latency', floor.p99, 'ms');
report('gateway p50 latency', gateway.p50, 'ms');
report('gateway p99 latency', gateway.p99, 'ms');
report('gateway with log.access "off"', quiet.rps, 'req/s');
report('access log cost (1 - all / off)', (1 - gateway.rps / quiet.rps) * 100, '%');
report(
  'gateway throughput, last 3 s / seconds 2-4 (limiter stays O(1))',
  lateOverEarly(gateway.perSecond),
  '%',
  atLeast(85, '>= 85%'),
);
printReport(`POST /rpc, ${CONNECTIONS} connections`, 'http-rpc');
