/**
 * An HTTP-level refusal that is not a domain rule: authentication, authorisation, preconditions,
 * validation. Rendered by ProblemDetailsFilter as RFC 9457 problem+json with a stable `code`.
 */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly extensions: Readonly<Record<string, unknown>> = {},
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
    this.name = 'ApiProblem';
  }
}
