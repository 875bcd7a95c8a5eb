import { z } from 'zod';
import { describeIssues } from './issues';
import { UnverifiableError } from './unverifiable';

/**
 * Semantic checks: what a schema cannot say. A schema-valid answer may still answer another
 * question (rows nobody asked for, citations of items that do not exist, a quote that is not
 * in its source, code that does not parse). Each check compares an output with the task's
 * input and returns errors in the `path: message` form of describeIssues, so they can be fed
 * back to the next source.
 *
 * Checks one output against its task's input. Resolves to `[]` when the output answers the
 * input, else to the errors. Throws UnverifiableError when it cannot judge (checker missing,
 * input invalid): that is never the answer's fault.
 */
export type SemanticCheck = (output: unknown, input: unknown, options?: VerifyOptions) => Promise<string[]>;

/** What verifyOutput may take as already established about the raw answer. */
export interface VerifyOptions {
  /**
   * The Python syntax check already passed on exactly this raw answer (the dispatcher's hedge
   * race ran it; see `answerDigest`), so the parse is not run again. Every other check still is.
   */
  readonly syntaxChecked?: boolean;
}

/** As many errors as describeIssues reports: enough to fix the answer, short enough to re-ask with. */
export const MAX_CHECK_ERRORS = 20;

/**
 * A check over typed values: the output is parsed with its schema (a shape error is reported as
 * such), the input with the capability's input schema (an invalid input throws UnverifiableError:
 * the dispatcher validated it before hiring, so it means a planning bug, not a bad answer).
 */
export function semanticCheck<O, I>(
  schemaId: string,
  schemas: { output: z.ZodType<O>; input: z.ZodType<I> },
  check: (output: O, input: I, options: VerifyOptions) => string[] | Promise<string[]>,
): SemanticCheck {
  return async (output, input, options = {}) => {
    const parsedInput = schemas.input.safeParse(input);
    if (!parsedInput.success) {
      throw new UnverifiableError(`cannot check ${schemaId}: the task input is invalid (${describeIssues(parsedInput.error).join('; ')})`, {
        retryable: false,
        cause: parsedInput.error,
      });
    }
    const parsedOutput = schemas.output.safeParse(output);
    if (!parsedOutput.success) return describeIssues(parsedOutput.error);
    return (await check(parsedOutput.data, parsedInput.data, options)).slice(0, MAX_CHECK_ERRORS);
  };
}
