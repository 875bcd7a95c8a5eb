import { Capability, definitionFor, describeIssues } from '@orchestra/schemas';
import { InvalidHireInputError } from './types';

/** Parses a hire's input with the input schema of the capability's version it is written for; throws InvalidHireInputError. */
export function parseHireInput<T>(capability: Capability, input: unknown): T {
  const parsed = definitionFor(capability, input).input.safeParse(input);
  if (!parsed.success) throw new InvalidHireInputError(capability, describeIssues(parsed.error), { cause: parsed.error });
  return parsed.data as T;
}
