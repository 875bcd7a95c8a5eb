import type { z } from 'zod';
import { DEFAULT_LIMITS, parseUntrustedJson, truncateText, UntrustedJsonError } from '@orchestra/contracts';
import { ProviderError, ProviderId } from './errors';

/**
 * Reading a gateway's 2xx body: depth-bounded JSON, then the documented shape. Either failure is
 * the source's fault (`bad_response`), never a SyntaxError or a zod error escaping as ours.
 */
export function parseGatewayJson<S extends z.ZodType>(provider: ProviderId, where: string, text: string, shape: S): z.infer<S> {
  let json: unknown;
  try {
    json = parseUntrustedJson(text, { maxDepth: DEFAULT_LIMITS.maxJsonDepth });
  } catch (error) {
    const why = error instanceof UntrustedJsonError ? error.message : String(error);
    throw new ProviderError(provider, 'bad_response', `${provider} ${where} answered with something that is not JSON (${why}): ${truncateText(text, 120)}`, {
      cause: error,
    });
  }
  return checkShape(provider, where, json, shape);
}

/** Checks an already-parsed value against the documented shape. */
export function checkShape<S extends z.ZodType>(provider: ProviderId, where: string, value: unknown, shape: S): z.infer<S> {
  const parsed = shape.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new ProviderError(provider, 'bad_response', `${provider} ${where} answered JSON of the wrong shape: ${truncateText(issues.join('; '), 500)}`);
}

/** Validates a call's input, blaming the caller (InvalidProviderInputError) when it does not fit. */
export function zodIssues(error: z.ZodError): string[] {
  return error.issues.slice(0, 10).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
}

/** USD of `tokens` at `usdPerMTok` per million. */
export function tokenCostUsd(tokens: number, usdPerMTok: number): number {
  return (tokens * usdPerMTok) / 1_000_000;
}
