import { z } from 'zod';
import { CAPABILITY_DEFINITIONS, Capability } from './registry';

/** One message of a chat request to an LLM source (the OpenAI-compatible shape gateways take). */
export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

/**
 * The prompt Orchestra sends an LLM source hired for `capability`: what is wanted (the
 * capability's description and output JSON Schema), the task's input, and on a re-ask the
 * verifier's complaints about the last answer. One builder for every capability, driven by its
 * definition, so a capability added to the catalog is promptable without new code here; a
 * capability whose answers need more guidance says so in its definition.
 */
export function promptFor(capability: Capability, input: unknown, feedback: readonly string[] = []): ChatMessage[] {
  const definition = CAPABILITY_DEFINITIONS[capability];
  const schema = JSON.stringify(z.toJSONSchema(definition.output));
  const system = [
    `You are hired for the capability ${capability}: ${definition.description}`,
    'Answer with exactly one JSON value and nothing else (no prose, no code fences).',
    `It must conform to this JSON Schema:\n${schema}`,
  ].join('\n');
  const user = [`Input:\n\`\`\`json\n${JSON.stringify(input, null, 2)}\n\`\`\``];
  if (feedback.length > 0) user.push(`Your previous answer was rejected. Fix these problems:\n${feedback.map((f) => `- ${f}`).join('\n')}`);
  return [
    { role: 'system', content: system },
    { role: 'user', content: user.join('\n\n') },
  ];
}
