import { startApiOnPostgres, type ApiHarness } from './api-harness.js';

/** The audit suites use the common harness: the API on its own PostgreSQL database. */
export type AuditApiHarness = ApiHarness;
export const startAuditApi = startApiOnPostgres;
