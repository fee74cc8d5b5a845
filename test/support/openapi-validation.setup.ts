import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import supertest from 'supertest';
import { OpenApiValidator } from './openapi-validator.js';

/**
 * Runs before every e2e suite (jest.config.js, setupFilesAfterEnv): every response a supertest
 * request receives is checked against docs/openapi.json (OpenApiValidator) before the test sees it.
 * A mismatch fails the request with the list of problems. How many exchanges were checked goes to
 * OPENAPI_VALIDATION_COUNT_FILE, which the e2e reporter sums and prints after the run.
 */
const validator = new OpenApiValidator(fileURLToPath(new URL('../../docs/openapi.json', import.meta.url)));
let validated = 0;

interface SupertestRequest {
  method: string;
  url: string;
  _data?: unknown;
}

interface SupertestResponse {
  status: number;
  headers: Record<string, string | undefined>;
  body: unknown;
  text?: string;
}

type Assert = (this: SupertestRequest, error: unknown, response: SupertestResponse | undefined, fn: unknown) => void;

const prototype = (supertest as unknown as { Test: { prototype: { assert: Assert } } }).Test.prototype;
const original = prototype.assert;
prototype.assert = function (this: SupertestRequest, error, response, fn) {
  if (response) {
    const problems = validator.check({
      method: this.method,
      url: this.url,
      requestBody: typeof this._data === 'string' ? parseJson(this._data) : this._data,
      status: response.status,
      contentType: response.headers['content-type'],
      body: bodyOf(response),
    });
    validated++;
    if (problems.length > 0) {
      const mismatch = new Error(`The answer does not match docs/openapi.json:\n  ${problems.join('\n  ')}`);
      if (typeof fn === 'function') (fn as (error: unknown, res: unknown) => void).call(this, mismatch, response);
      return;
    }
  }
  return original.call(this, error, response, fn);
};

afterAll(() => {
  const file = process.env.OPENAPI_VALIDATION_COUNT_FILE;
  if (file && validated > 0) appendFileSync(file, `${validated}\n`);
});

function bodyOf(response: SupertestResponse): unknown {
  const type = response.headers['content-type'] ?? '';
  // NDJSON is text (lines of JSON), even when it has one line that would parse as a JSON document.
  if (/json/.test(type) && !/ndjson/.test(type)) return response.text ? parseJson(response.text) : undefined;
  return response.text ? response.text : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
