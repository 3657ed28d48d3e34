import { NestFactory } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { GatewayConfig } from './core/config/gateway-config.js';
import { attachAccessLog } from './core/logging/access-log.js';
import { attachSecurityHeaders, securityHeadersFor } from './core/http/response-headers.hook.js';
import { newRequestId } from './core/logging/correlation-id.js';
import { ROOT_LOGGER, type RootLogger } from './core/logging/root-logger.js';
import { LifecycleService } from './core/health/lifecycle.service.js';
import { HttpErrorShapes } from './core/rpc/http-error-shapes.js';
import { parseJsonBody } from './core/rpc/json-body.parser.js';
import { RpcStatsService } from './core/rpc/rpc-stats.service.js';
import { RpcGateway } from './core/ws/ws-rpc.gateway.js';
import { GatewayWsAdapter } from './core/ws/gateway-ws.adapter.js';
import type { GatewayModuleOptions } from './gateway-module.options.js';
import { GatewayModule, resolveGatewayConfig } from './gateway.module.js';

/** Creates the gateway application (not yet listening) on Fastify, configured for production. */
export async function createGatewayApp(
  options: GatewayModuleOptions = {},
): Promise<NestFastifyApplication> {
  const config = resolveGatewayConfig(options);
  const app = await NestFactory.create<NestFastifyApplication>(
    GatewayModule.forRoot({ ...options, config }),
    new FastifyAdapter({
      bodyLimit: config.gateway.bodyLimit,
      ...slowClientTimeouts(config),
      // X-Forwarded-For is resolved by the gateway against configured proxies, never blindly.
      trustProxy: false,
      return503OnClosing: true,
      requestIdHeader: false,
      genReqId: (request: unknown) => newRequestId(request as IncomingMessage),
    }),
    { bufferLogs: true, abortOnError: false },
  );
  await configureGatewayApp(app);
  // Initialised here so that a bad method table or config fails at build(), not at listen().
  await app.init();
  return app;
}

/**
 * Node's HTTP timeouts against slow clients (Fastify leaves them off). requestTimeout and
 * headersTimeout end once the request has been read, so a long call's reply is never cut; there
 * is no socket inactivity timeout (Fastify's connectionTimeout) for the same reason. Node checks
 * them every connectionsCheckingInterval (30 s by default): checked often enough here that a
 * slow client is dropped within its timeout plus at most a second.
 */
function slowClientTimeouts(config: GatewayConfig): {
  requestTimeout: number;
  keepAliveTimeout: number;
  http: { requestTimeout: number; headersTimeout: number; connectionsCheckingInterval: number };
} {
  const { requestTimeout, headersTimeout, keepAliveTimeout } = config.gateway;
  const shortest = Math.min(requestTimeout, headersTimeout);
  return {
    requestTimeout,
    keepAliveTimeout,
    http: {
      // Node refuses headersTimeout > requestTimeout; the request's bound covers its headers too.
      requestTimeout,
      headersTimeout: shortest,
      connectionsCheckingInterval: Math.min(1000, Math.max(25, Math.floor(shortest / 4))),
    },
  };
}

/**
 * What an app serving the gateway needs besides the module: the logger, the WebSocket adapter,
 * a JSON parser that lets /rpc answer malformed JSON with -32700, and the security headers
 * (the dashboard's page policies, /rpc's API headers). A host that builds its own Nest app calls
 * (and awaits) this on it, before app.init(); it stays a promise for hosts that await it.
 */
export function configureGatewayApp(app: NestFastifyApplication): Promise<void> {
  app.useLogger(app.get(Logger));
  app.flushLogs();
  const config = app.get(GatewayConfig);
  attachAccessLog(
    app.getHttpAdapter().getInstance(),
    app.get<RootLogger>(ROOT_LOGGER).stream,
    config.log,
  );
  app.useWebSocketAdapter(new GatewayWsAdapter(app));
  const { bodyLimit } = config.gateway;
  app.useBodyParser('application/json', { bodyLimit }, parseJsonBody);
  const fastify = app.getHttpAdapter().getInstance();
  const securityHeaders = attachSecurityHeaders(fastify);
  const lifecycle = app.get(LifecycleService);
  const errorShapes = app.get(HttpErrorShapes);
  // The one global onRequest hook: routes get their security headers from their own prepared
  // hook (see attachSecurityHeaders), so a matched request pays two property reads here.
  fastify.addHook('onRequest', (request, reply, done) => {
    // Draining: a request that still arrives on a kept-alive connection is sent elsewhere now,
    // before it can meet a store this process is closing. Health stays answerable.
    if (lifecycle.draining && !request.url.startsWith('/health')) {
      const route = request.routeOptions;
      const headers = securityHeadersFor(route.config);
      if (headers) void reply.headers(headers);
      const message = 'Draining: retry on another instance';
      // A front answers in its own shape (the OpenAI-compatible one in OpenAI's).
      const shaped = errorShapes.shaperFor(request.url)?.(503, message);
      void reply.status(503).header('connection', 'close').header('retry-after', '1');
      for (const [name, value] of Object.entries(shaped?.headers ?? {})) {
        if (!reply.hasHeader(name)) void reply.header(name, value);
      }
      void reply
        .type('application/json')
        .send(JSON.stringify(shaped ? shaped.body : { statusCode: 503, message }));
      return;
    }
    securityHeaders.onUnmatched(request, reply);
    done();
  });
  return Promise.resolve();
}

/**
 * Graceful shutdown: stop reading new work, let calls in flight finish up to the deadline,
 * close WebSocket clients with 1001, then close the app (HTTP server, database).
 */
export async function shutdownGatewayApp(app: NestFastifyApplication): Promise<void> {
  const config = app.get(GatewayConfig);
  app.get(LifecycleService).startDraining();
  const gateway = app.get(RpcGateway);
  gateway.drain();
  // Stop accepting connections now; requests already under way go on.
  const server = app.getHttpServer();
  server.close();
  server.closeIdleConnections();
  await app.get(RpcStatsService).waitForIdle(config.gateway.shutdownTimeout);
  gateway.closeAll();
  await app.close();
}
