import { CAPABILITY_DEFINITIONS, Capability, describeIssues } from '@orchestra/schemas';
import { InvalidHireInputError } from './types';

/** Parses a hire's input with its capability's input schema; throws InvalidHireInputError. */
export function parseHireInput<T>(capability: Capability, input: unknown): T {
  const parsed = CAPABILITY_DEFINITIONS[capability].input.safeParse(input);
  if (!parsed.success) throw new InvalidHireInputError(capability, describeIssues(parsed.error), { cause: parsed.error });
  return parsed.data as T;
}
