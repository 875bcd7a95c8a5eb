/**
 * The JSON Standardization Layer: the capability catalog (each capability's input, output
 * schema, semantic and grounding checks, prompt guidance; versioned, exported as JSON Schema),
 * the parser that turns a source's raw text into a validated value or a list of precise
 * errors, and the checks that compare an answer with the question it was asked (verifyOutput
 * runs both).
 */
export * from './financials';
export * from './analysis';
export * from './text-report';
export * from './data-extract';
export * from './code';
export * from './search';
export * from './social';
export * from './query-dates';
export * from './grounding';
export * from './report';
export * from './registry';
export * from './prompts';
export * from './schema-registry';
export * from './issues';
export * from './check';
export * from './standardize';
export * from './semantic';
export * from './python-syntax';
export * from './unverifiable';
export * from './agreement';
export * from './planning-prompt';
export * from './client-schema';
