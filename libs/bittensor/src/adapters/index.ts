export * from './types';
export * from './adapters';
export * from './hire-input';
export * from './sn1-prompt';
export * from './sn13-on-demand';
export * from './sn62-code-generation';
