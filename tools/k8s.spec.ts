import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * Every overlay of k8s/ builds with kustomize, and every object in it (components included)
 * is valid against the Kubernetes, KEDA and Prometheus Operator schemas. kubectl (with its
 * built-in kustomize) is part of this project's machines; the validation itself is
 * tools/k8s-validate.mjs (ESM, like the schema packages).
 */
it('builds every overlay into objects valid against their schemas', () => {
  let output: string;
  try {
    output = execFileSync(process.execPath, [join(__dirname, 'k8s-validate.mjs')], { encoding: 'utf8' });
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`k8s validation failed:\n${failure.stdout ?? ''}${failure.stderr ?? failure.message}`);
  }
  expect(output).toMatch(/^overlays\/production: \d+ objects, all valid$/m);
  expect(output).toMatch(/^overlays\/staging: \d+ objects, all valid$/m);
  expect(output).toMatch(/^base \+ every component: \d+ objects, all valid$/m);
}, 60_000);
