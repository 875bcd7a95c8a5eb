/**
 * The JSON Standardization Layer: the output schema of every capability (versioned,
 * exported as JSON Schema), and the parser that turns a miner's raw text into a
 * validated value or a list of precise errors, and the semantic checks that compare an
 * answer with the question it was asked (verifyOutput runs both).
 */
export * from './financials';
export * from './analysis';
export * from './code';
export * from './report';
export * from './registry';
export * from './prompts';
export * from './schema-registry';
export * from './standardize';
export * from './semantic';
export * from './python-syntax';
export * from './unverifiable';
export * from './agreement';
export * from './planning-prompt';
export * from './client-schema';
