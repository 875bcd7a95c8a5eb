export * from './epistula';
export * from './client';
