import { Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import { store } from '../../../infra/src/store.js';
import { other } from '@dealstream/bad-infra';
import { fine } from './fine.js';
export const bad = [Injectable, sql, randomUUID, store, other, fine];
