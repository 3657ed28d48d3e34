// The floor the gateway is measured against: the same framework (Fastify) and WebSocket library
// (ws) answering JSON-RPC with a constant result after the same HS256 bearer check, with no
// limits, validation, logging or storage. What the gateway costs is the distance from here.
import Fastify from 'fastify';
import { WebSocketServer } from 'ws';
import { registerDurableFloor } from './durable-floor.mjs';
import { AGENTS as result } from './floor-result.mjs';
import { verifyBearer } from './hs256.mjs';

const [port, database] = [Number(process.argv[2]), process.argv[3]];
const app = Fastify();
app.get('/health', async () => ({ status: 'ok' }));
app.post('/rpc', async (request, reply) => {
  if (!verifyBearer(request.headers.authorization)) return reply.code(401).send();
  return { jsonrpc: '2.0', id: request.body.id, result };
});

// The storage floor (session.message's): see durable-floor.mjs.
if (database) await registerDurableFloor(app, database);

// The upgrade is authenticated once, as the gateway's is.
const wss = new WebSocketServer({
  server: app.server,
  path: '/ws',
  verifyClient: ({ req }) => verifyBearer(req.headers.authorization) !== undefined,
});
wss.on('connection', (socket) => {
  socket.on('message', (data) => {
    const call = JSON.parse(data.toString());
    socket.send(JSON.stringify({ jsonrpc: '2.0', id: call.id, result }));
  });
});

await app.listen({ host: '127.0.0.1', port });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
