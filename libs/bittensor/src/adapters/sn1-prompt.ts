import { CAPABILITY_DEFINITIONS, Capability, jsonSchema } from '@orchestra/schemas';
import type { ChatMessage } from '../epistula';

/**
 * The chat messages for a structured-output hire over SN1: the system message pins the answer to
 * the JSON Schema of the capability's output; the user message carries the task input in a
 * ```json fence and, on a re-ask, the validation errors of the previous answer.
 */
export function buildStructuredMessages(capability: Capability, input: unknown, feedback: readonly string[] = []): ChatMessage[] {
  const schemaId = CAPABILITY_DEFINITIONS[capability].outputSchemaId;
  const system = [
    `You are a careful analyst. Answer with a single JSON object only — no prose, no Markdown — that validates against this JSON Schema (${schemaId}):`,
    JSON.stringify(jsonSchema(schemaId)),
  ].join('\n');
  const user = [`Task (${CAPABILITY_DEFINITIONS[capability].description}) Input:`, fence(input)];
  if (feedback.length) {
    user.push('Your previous answer was rejected by the validator:', ...feedback.map((f) => `- ${f}`), 'Return a corrected JSON object only.');
  }
  return [
    { role: 'system', content: system },
    { role: 'user', content: user.join('\n') },
  ];
}

function fence(value: unknown): string {
  return '```json\n' + JSON.stringify(value, null, 2) + '\n```';
}

/**
 * The task input of a structured-output conversation: the first ```json fence of the last user
 * message (what a miner reads back). Undefined when there is none or it is not JSON.
 */
export function taskInputOf(messages: readonly ChatMessage[]): unknown {
  const user = [...messages].reverse().find((m) => m.role === 'user');
  const match = user && /```json\n([\s\S]*?)\n```/.exec(user.content);
  if (!match) return undefined;
  try {
    return JSON.parse(match[1]) as unknown;
  } catch {
    return undefined;
  }
}
