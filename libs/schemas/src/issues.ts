import { truncateText } from '@orchestra/contracts';
import { z } from 'zod';

/** Longest issue line kept: paths and messages can quote a miner's keys and values. */
const MAX_ISSUE_CHARS = 300;

/** Formats zod issues as `path: message` lines (at most 20, each cut to length), the form fed back to miners on a re-ask. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.slice(0, 20).map((issue) => truncateText(`${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`, MAX_ISSUE_CHARS));
}
