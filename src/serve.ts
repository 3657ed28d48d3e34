import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { printFirstRunAccess } from './core/auth/auth.cli.js';
import { AuthSecrets } from './core/auth/auth-secrets.js';
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

/**
 * Prints an admin token (12 h) and the dashboard link on the start that generated the JWT
 * secret, and on no later one: logs keep what is printed, and a token printed on every start
 * would leave a fresh admin credential in them each time. False when nothing was printed.
 */
export async function announceFirstRun(
  app: NestFastifyApplication,
  write?: (line: string) => void,
): Promise<boolean> {
  if (!app.get(AuthSecrets).jwt.created) return false;
  const config = app.get(GatewayConfig);
  return printFirstRunAccess(config, config.gateway, write);
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
