import { z } from 'zod';
import { Capability, definitionFor } from './registry';

/** One message of a chat request to an LLM source (the OpenAI-compatible shape gateways take). */
export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

/** The line that introduces the output JSON Schema in the system message (readers of prompts look for it). */
export const PROMPT_SCHEMA_LINE = 'It must conform to this JSON Schema:';

/**
 * The prompt Orchestra sends an LLM source hired for `capability`: what is wanted (the
 * capability's description, its instructions and output JSON Schema, for the version the input
 * is written for), the task's input, and on a re-ask the verifier's complaints about the last
 * answer. One builder for every capability, driven by its definition, so a capability added to
 * the catalog is promptable without new code here.
 *
 * Documents (an input's `documents`: `{ id, title?, text }`) are shown as text, each in its own
 * fenced block under a `Document <id>` line, not as JSON strings: a model reads and quotes text
 * far better than escaped JSON, and quotes must be verbatim. The rest of the input is JSON.
 */
export function promptFor(capability: Capability, input: unknown, feedback: readonly string[] = []): ChatMessage[] {
  const definition = definitionFor(capability, input);
  const schema = JSON.stringify(z.toJSONSchema(definition.output));
  const system = [
    `You are hired for the capability ${capability} (${definition.outputSchemaId}): ${definition.description}`,
    ...(definition.instructions ?? []).map((line) => `- ${line}`),
    'Answer with exactly one JSON value and nothing else (no prose, no code fences).',
    `${PROMPT_SCHEMA_LINE}\n${schema}`,
  ].join('\n');
  const { documents, rest } = splitDocuments(input);
  const user = documents.map((d) => `Document ${d.id}${d.title ? `: ${d.title}` : ''}\n${fenced(d.text, 'text')}`);
  user.push(`Input${documents.length ? ' (besides the documents above)' : ''}:\n${fenced(JSON.stringify(rest, null, 2), 'json')}`);
  if (feedback.length > 0) user.push(`Your previous answer was rejected. Fix these problems:\n${feedback.map((f) => `- ${f}`).join('\n')}`);
  return [
    { role: 'system', content: system },
    { role: 'user', content: user.join('\n\n') },
  ];
}

interface PromptDocument {
  readonly id: string;
  readonly title?: string;
  readonly text: string;
}

/** An input's documents (when it has a `documents` list of texts) and the rest of it. */
function splitDocuments(input: unknown): { documents: PromptDocument[]; rest: unknown } {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return { documents: [], rest: input };
  const { documents, ...rest } = input as Record<string, unknown>;
  const isDocument = (d: unknown): d is PromptDocument =>
    d !== null && typeof d === 'object' && typeof (d as PromptDocument).id === 'string' && typeof (d as PromptDocument).text === 'string';
  if (!Array.isArray(documents) || !documents.every(isDocument)) return { documents: [], rest: input };
  return { documents, rest };
}

/** A fenced block whose fence is longer than any run of backticks inside (CommonMark), so no text can close it early. */
export function fenced(text: string, info: string): string {
  const longest = (text.match(/`+/g) ?? []).reduce((max, run) => Math.max(max, run.length), 0);
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${info}\n${text}\n${fence}`;
}
