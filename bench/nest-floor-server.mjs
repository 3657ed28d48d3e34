// The framework floor: Nest on the Fastify adapter with one controller answering the same
// JSON-RPC call after the same HS256 check, and nothing of the gateway (no guards, logging,
// validation or storage). The distance from bare Fastify is Nest's; the distance from here is
// ours. Plain JavaScript, so the decorators are applied as functions.
import 'reflect-metadata';
import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Module,
  Post,
  UnauthorizedException,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { AGENTS } from './floor-result.mjs';
import { verifyBearer } from './hs256.mjs';

class FloorController {
  health() {
    return { status: 'ok' };
  }

  rpc(body, authorization) {
    if (!verifyBearer(authorization)) throw new UnauthorizedException();
    return { jsonrpc: '2.0', id: body.id, result: AGENTS };
  }
}

const method = (name) => Object.getOwnPropertyDescriptor(FloorController.prototype, name);
Controller()(FloorController);
Get('health')(FloorController.prototype, 'health', method('health'));
Post('rpc')(FloorController.prototype, 'rpc', method('rpc'));
HttpCode(200)(FloorController.prototype, 'rpc', method('rpc'));
Body()(FloorController.prototype, 'rpc', 0);
Headers('authorization')(FloorController.prototype, 'rpc', 1);

class FloorModule {}
Module({ controllers: [FloorController] })(FloorModule);

const app = await NestFactory.create(FloorModule, new FastifyAdapter(), { logger: false });
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2]) });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
