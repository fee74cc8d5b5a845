import { NestFactory } from '@nestjs/core';
import pg from 'pg';
export const store = [NestFactory, pg];
