/**
 * What the HTTP framework alone costs: the same small Nest app (a global guard, the API's
 * ValidationPipe options, a DTO body, a header and a JSON answer — no database) on
 * @nestjs/platform-express and on @nestjs/platform-fastify, same process, same clients:
 *
 *   npm run build && node dist/test/benchmarks/http-adapters.bench.js
 *
 * It bounds what switching dealstream's API to Fastify could gain (test/benchmarks/README.md).
 */
import 'reflect-metadata';
import {
  Body,
  Controller,
  HttpCode,
  Injectable,
  Module,
  Param,
  Post,
  Res,
  ValidationPipe,
  type CanActivate,
  type INestApplication,
} from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { printTable, runFor } from './bench-kit.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const levels = [1, 16, 64];

class ActivityDto {
  @IsIn(['call', 'email', 'meeting'])
  kind!: string;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  note?: string;
}

@Injectable()
class AllowGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

@Controller('deals')
class ActivitiesController {
  @Post(':id/activities')
  @HttpCode(201)
  log(
    @Param('id') id: string,
    @Body() body: ActivityDto,
    @Res({ passthrough: true })
    response: { header?: (n: string, v: string) => void; setHeader?: (n: string, v: string) => void },
  ) {
    if (response.setHeader) response.setHeader('ETag', '"1"');
    else response.header!('ETag', '"1"');
    return {
      id,
      streamId: `deal-${id}`,
      revision: '1',
      position: '0000000000000001-0000000000000001',
      events: [body.kind],
    };
  }
}

@Module({ controllers: [ActivitiesController], providers: [{ provide: APP_GUARD, useClass: AllowGuard }] })
class BenchModule {}

async function measure(app: INestApplication) {
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true, transform: true }),
  );
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 64 });
  const results = [];
  try {
    for (const clients of levels) {
      const run = await runFor(seconds, clients, async (worker) => {
        const response = await pool.request({
          method: 'POST',
          path: `/deals/d${worker}/activities`,
          headers: { 'content-type': 'application/json', authorization: 'Bearer x' },
          body: JSON.stringify({ kind: 'call' }),
        });
        await response.body.text();
        if (response.statusCode !== 201) throw new Error(`status ${response.statusCode}`);
      });
      results.push(run);
    }
  } finally {
    await pool.close();
    await app.close();
  }
  return results;
}

const express = await measure(await NestFactory.create(BenchModule, { logger: false }));
const fastify = await measure(await NestFactory.create(BenchModule, new FastifyAdapter(), { logger: false }));
console.log(`Nest on express vs on Fastify, no database — ${seconds}s per measurement`);
printTable(
  ['clients', 'express req/s', 'express p50 ms', 'fastify req/s', 'fastify p50 ms', 'fastify/express'],
  levels.map((clients, i) => [
    String(clients),
    express[i].perSecond,
    express[i].p50Ms,
    fastify[i].perSecond,
    fastify[i].p50Ms,
    fastify[i].perSecond / express[i].perSecond,
  ]),
);
