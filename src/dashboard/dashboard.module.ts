import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  Inject,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnModuleInit,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { PACKAGE_ROOT } from '../core/package-info.js';
import { isExcludedFromDashboard } from './dashboard-paths.js';

/** Where `npm run build` puts the dashboard: `public/` at the package root. */
export const DEFAULT_DASHBOARD_ROOT = join(PACKAGE_ROOT, 'public');

const DASHBOARD_ROOT = Symbol('DASHBOARD_ROOT');

/**
 * Serves the built dashboard at `/` with a history-mode fallback to index.html. These are plain
 * Fastify routes, outside Nest's guards, so the static files need no token (the API still does).
 * The fallback leaves the gateway's own paths (/rpc, /ws, /health, …) to their 404.
 * @fastify/static is imported only when there is a dashboard to serve: an app built without the
 * dashboard (`dashboard: false`, or no build in public/) never loads it.
 */
@Module({})
export class DashboardModule implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('Dashboard');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(DASHBOARD_ROOT) private readonly root: string | null,
  ) {}

  static forRoot(rootPath: string = DEFAULT_DASHBOARD_ROOT): DynamicModule {
    const built = existsSync(`${rootPath}/index.html`);
    return {
      module: DashboardModule,
      providers: [{ provide: DASHBOARD_ROOT, useValue: built ? rootPath : null }],
    };
  }

  async onModuleInit(): Promise<void> {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!this.root || !fastify) return;
    const { default: fastifyStatic } = await import('@fastify/static');
    // One route per file of the build (wildcard: false), so that every other path reaches the
    // catch-all below; index.html is served by the catch-all only.
    void fastify.register(fastifyStatic, {
      root: this.root,
      wildcard: false,
      index: false,
      maxAge: 0,
    });
    // Unknown paths render index.html: the client routes them (history mode). The gateway's own
    // paths are filtered on this route only, so other routes pay nothing for it.
    fastify.get(
      '*',
      {
        onRequest: (request, reply, done) => {
          if (isExcludedFromDashboard(request.url)) {
            reply.callNotFound();
            return;
          }
          done();
        },
      },
      (_request, reply: FastifyReply) => reply.sendFile('index.html'),
    );
  }

  onApplicationBootstrap(): void {
    if (!this.root) {
      this.logger.warn(
        'No dashboard build found (public/index.html): the API is up, `/` is not served. Run `npm run build`.',
      );
    }
  }
}
