import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { GatewayConfig } from './core/config/gateway-config.js';
import { shutdownGatewayApp } from './gateway.factory.js';

/** Listens on the configured host and port; returns the address actually bound. */
export async function listenGateway(app: NestFastifyApplication): Promise<string> {
  const { host, port } = app.get(GatewayConfig).gateway;
  await app.listen({ host, port });
  const address = app.getHttpServer().address();
  const bound =
    address && typeof address === 'object'
      ? `${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
      : `${host}:${port}`;
  new Logger('Gateway').log(`listening on http://${bound}`);
  return bound;
}

/** SIGTERM and SIGINT drain the gateway and exit 0; a second signal exits at once. */
export function installSignalHandlers(app: NestFastifyApplication): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(1);
    stopping = true;
    new Logger('Gateway').log(`${signal} received: draining`);
    shutdownGatewayApp(app).then(
      () => process.exit(0),
      (err: unknown) => {
        new Logger('Gateway').error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
