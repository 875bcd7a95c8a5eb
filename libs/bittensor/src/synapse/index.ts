export * from './python-repr';
export * from './synapse';
