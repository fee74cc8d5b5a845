import { createDealstreamClient, type components, type DealstreamClient } from '@dealstream/client';

export type Problem = components['schemas']['ProblemDto'];
export type Board = components['schemas']['BoardDto'];
export type BoardStage = components['schemas']['BoardStageDto'];
export type BoardDeal = components['schemas']['BoardDealDto'];

/** The typed client generated from docs/openapi.json, on this page's own origin. */
export function apiFor(token: string): DealstreamClient {
  return createDealstreamClient({ baseUrl: window.location.origin, token });
}

/** A readable sentence for a problem+json answer (or a network failure): never swallowed. */
export function problemText(error: unknown, status?: number): string {
  if (error && typeof error === 'object' && 'title' in error) {
    const problem = error as Problem;
    const fields = (problem.errors ?? []).map((field) => `${field.field}: ${field.messages.join(', ')}`);
    const head =
      problem.detail && problem.detail !== problem.title ? `${problem.title}: ${problem.detail}` : problem.title;
    return [head ?? `Error ${problem.status ?? status ?? ''}`, ...fields].join(' — ');
  }
  if (error instanceof Error) return `The API could not be reached (${error.message}).`;
  return `The API answered ${status ?? 'an error'}.`;
}

/** Thrown by `ok` so a caller can tell a refusal (with its status and problem) from a fault. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
  ) {
    super(problemText(problem, status));
  }
}

/** The data of an openapi-fetch answer, or an ApiError with the API's problem. */
export function ok<T>(answer: { data?: T; error?: unknown; response: Response }): T {
  if (answer.error !== undefined || answer.data === undefined)
    throw new ApiError(answer.response.status, answer.error as Problem | undefined);
  return answer.data;
}

/** Minor units as money, e.g. 125000 EUR → "€1,250.00". */
export function money(minor: number, currency: string): string {
  const digits =
    new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  return new Intl.NumberFormat('en', { style: 'currency', currency }).format(minor / 10 ** digits);
}

/** What the user types ("1250.50") in minor units of the currency. */
export function toMinor(text: string, currency: string): number | undefined {
  const value = Number(text.replace(/[,\s]/g, ''));
  if (!Number.isFinite(value) || value < 0) return undefined;
  const digits =
    new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  return Math.round(value * 10 ** digits);
}
