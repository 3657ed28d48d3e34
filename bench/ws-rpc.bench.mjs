// /ws agent.list, the gateway against a bare ws server with the same HS256 check at the upgrade:
// 50 sockets with one call in flight each (a real client's shape) and 8 pipelining sockets; then
// fairness: how long a quiet client waits while another client pipelines as fast as it can.
import WebSocket from 'ws';
import {
  SECONDS,
  atMost,
  compare,
  printReport,
  report,
  startFloor,
  startGateway,
  token,
} from './support.mjs';

function connect(url, headers = {}) {
  return new Promise((done, fail) => {
    const socket = new WebSocket(url, ['openclaw.v1'], { headers });
    socket.once('open', () => done(socket));
    socket.once('error', fail);
  });
}

/** Keeps `window` calls in flight on one socket until `until`; resolves with the answers counted. */
function pipeline(socket, window, until) {
  return new Promise((done, fail) => {
    let id = 0;
    let inFlight = 0;
    let answered = 0;
    const send = () => {
      inFlight++;
      socket.send(JSON.stringify({ jsonrpc: '2.0', id: ++id, method: 'agent.list', params: {} }));
    };
    socket.on('message', (data) => {
      const reply = JSON.parse(data.toString());
      if (reply.id === undefined) return;
      if (reply.error) return fail(new Error(JSON.stringify(reply.error)));
      inFlight--;
      answered++;
      if (Date.now() < until) send();
      else if (inFlight === 0) done(answered);
    });
    for (let i = 0; i < window; i++) send();
  });
}

/** Calls per second over `connections` sockets, one client (token subject) each. */
async function throughput(url, connections, window) {
  const sockets = await Promise.all(
    Array.from({ length: connections }, async (_, i) =>
      connect(url, { authorization: `Bearer ${await token(`client-${i}`)}` }),
    ),
  );
  const started = Date.now();
  const until = started + SECONDS * 1000;
  const counts = await Promise.all(sockets.map((socket) => pipeline(socket, window, until)));
  const elapsed = (Date.now() - started) / 1000;
  sockets.forEach((socket) => socket.close());
  return counts.reduce((sum, count) => sum + count, 0) / elapsed;
}

/** Sequential calls from a quiet client, returning each call's latency in ms. */
async function probe(url, headers, count) {
  const socket = await connect(url, headers);
  const latencies = [];
  for (let id = 1; id <= count; id++) {
    const started = performance.now();
    await new Promise((done) => {
      socket.once('message', done);
      socket.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'agent.list', params: {} }));
    });
    latencies.push(performance.now() - started);
    await new Promise((r) => setTimeout(r, 10));
  }
  socket.close();
  return latencies.sort((a, b) => a - b);
}

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

const headers = { authorization: `Bearer ${await token()}` };

const floor = await startFloor();
// The shape a real client has: 50 sockets, one call in flight each; then pipelined sockets.
const floorSerial = await throughput(floor.wsUrl, 50, 1);
const floorPipelined = await throughput(floor.wsUrl, 8, 32);
await floor.close();

const gateway = await startGateway({
  rateLimit: { client: { limit: 1_000_000_000, ttl: '1h' } },
});
const gatewaySerial = await throughput(gateway.wsUrl, 50, 1);
const gatewayPipelined = await throughput(gateway.wsUrl, 8, 32);

const idle = await probe(gateway.wsUrl, headers, 200);
// A flooder keeps 5,000 calls pipelined, far past the per-connection in-flight cap.
const flooder = await connect(gateway.wsUrl, { authorization: `Bearer ${await token('flooder')}` });
// Never awaited: it ends when the socket is terminated below.
pipeline(flooder, 5000, Date.now() + 60_000).catch(() => undefined);
const busy = await probe(gateway.wsUrl, headers, 200);
flooder.terminate();
await gateway.close();

compare('/ws agent.list, 50 sockets x 1 in flight', 'calls/s', floorSerial, gatewaySerial, 0.7);
compare(
  '/ws agent.list, 8 sockets x 32 pipelined',
  'calls/s',
  floorPipelined,
  gatewayPipelined,
  0.7,
);
report('quiet client p50, idle gateway', percentile(idle, 0.5), 'ms');
report('quiet client p99, idle gateway', percentile(idle, 0.99), 'ms');
report('quiet client p50, while another pipelines 5,000', percentile(busy, 0.5), 'ms');
report(
  'quiet client p99, while another pipelines 5,000',
  percentile(busy, 0.99),
  'ms',
  atMost(30, '<= 30 ms'),
);
printReport('/ws', 'ws-rpc');
