// One Jest run over every project: unit specs next to the code (*.spec.ts) and
// cross-process scenarios in test/ (*.e2e.ts). Type-checking is `npm run typecheck`;
// here SWC only strips types (keeping decorator metadata, which Nest's DI needs).
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = Object.fromEntries(Object.entries(compilerOptions.paths).map(([alias, [target]]) => [`^${alias}$`, `<rootDir>/${target}`]));

module.exports = {
  testEnvironment: 'node',
  rootDir: __dirname,
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test', '<rootDir>/tools'],
  testMatch: ['**/*.spec.ts', '**/*.e2e.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { swcrc: true }] },
  moduleNameMapper,
  testTimeout: 30_000,
  maxWorkers: 2,
};
