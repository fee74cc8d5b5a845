// Prints how many HTTP exchanges the e2e suites checked against docs/openapi.json
// (test/support/openapi-validation.setup.ts appends one count per suite to the file).
import { existsSync, readFileSync, rmSync } from 'node:fs';

export default class OpenApiCountReporter {
  onRunStart() {
    const file = process.env.OPENAPI_VALIDATION_COUNT_FILE;
    if (file) rmSync(file, { force: true });
  }

  onRunComplete() {
    const file = process.env.OPENAPI_VALIDATION_COUNT_FILE;
    if (!file || !existsSync(file)) return;
    const counts = readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number);
    const total = counts.reduce((sum, n) => sum + n, 0);
    console.log(
      `OpenAPI contract: ${total} responses from ${counts.length} e2e suites validated against docs/openapi.json`,
    );
    rmSync(file, { force: true });
  }
}
