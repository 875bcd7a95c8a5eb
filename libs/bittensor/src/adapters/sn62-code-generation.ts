import { defineSynapse } from '../synapse';

/**
 * Orchestra's own synapse for code subnets. Real SN62 (Ridges) has no axon: miners upload agents
 * to a central platform (BITTENSOR.md §5), so the devnet's SN62 speaks this synapse instead, and
 * the adapter is chosen per netuid so a `platform` adapter can replace it for the real subnet.
 * The hash covers the whole request (task, rows, feedback), so the dendrite signature protects it.
 */
export const CODE_GENERATION = defineSynapse({
  name: 'CodeGeneration',
  fields: {
    // request
    task: { default: '', required: true },
    rows: { default: [] },
    feedback: { default: [] },
    // response
    language: { default: 'python' },
    code: { default: '' },
    dependencies: { default: [] },
    entrypoint: { default: '' },
  },
  requiredHashFields: ['task', 'rows', 'feedback'],
});

/** The raw output for the verifier: the response fields as a PythonCode JSON object. */
export function codeGenerationToRaw(values: Readonly<Record<string, unknown>>): string {
  return JSON.stringify({ language: values.language, code: values.code, dependencies: values.dependencies, entrypoint: values.entrypoint });
}
