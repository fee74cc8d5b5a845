import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

/**
 * Makes `app.init()` leave the app answering requests on `app.getHttpServer()`, as it did on
 * express: Fastify loads its plugins and builds each route's hooks in `ready()`, which otherwise
 * only `listen()` awaits (supertest and the tests' harness use the server without listen()).
 */
@Injectable()
export class HttpServerReady implements OnApplicationBootstrap {
  constructor(private readonly host: HttpAdapterHost) {}

  async onApplicationBootstrap(): Promise<void> {
    const instance = this.host.httpAdapter?.getInstance<{ ready?: () => PromiseLike<unknown> }>();
    await instance?.ready?.();
  }
}
