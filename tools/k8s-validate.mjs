#!/usr/bin/env node
// Builds every kustomize overlay of k8s/ (and the base with every optional component, so the
// components are checked even where no overlay enables them) with `kubectl kustomize`, and
// validates each object against the JSON schemas of Kubernetes, KEDA and the Prometheus
// Operator (kubernetes-models, @kubernetes-models/*). Prints one line per overlay; exits 1
// naming every invalid object. ESM because the schema packages are ESM only;
// tools/k8s.spec.ts runs it in CI.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import * as core from 'kubernetes-models/v1';
import * as apps from 'kubernetes-models/apps/v1';
import * as autoscaling from 'kubernetes-models/autoscaling/v2';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as batch from 'kubernetes-models/batch/v1';
import * as keda from '@kubernetes-models/keda/keda.sh/v1alpha1';
import * as monitoring from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'k8s');

const MODELS = {
  v1: core,
  'apps/v1': apps,
  'autoscaling/v2': autoscaling,
  'networking.k8s.io/v1': networking,
  'policy/v1': policy,
  'batch/v1': batch,
  'keda.sh/v1alpha1': keda,
  'monitoring.coreos.com/v1': monitoring,
};

/** The directories to build: each overlay, and a scratch overlay of the base with every component. */
function targets(scratch) {
  const overlays = readdirSync(join(root, 'overlays')).map((name) => join(root, 'overlays', name));
  const components = readdirSync(join(root, 'components')).map((name) => relative(scratch, join(root, 'components', name)));
  writeFileSync(
    join(scratch, 'kustomization.yaml'),
    [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      'namespace: orchestra',
      'resources:',
      `  - ${relative(scratch, join(root, 'base'))}`,
      'components:',
      ...components.map((c) => `  - ${c}`),
      '',
    ].join('\n'),
  );
  return [...overlays, scratch];
}

function validate(dir) {
  const rendered = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const problems = [];
  let count = 0;
  for (const doc of parseAllDocuments(rendered)) {
    const object = doc.toJS();
    if (!object) continue;
    count++;
    const name = `${object.apiVersion} ${object.kind} ${object.metadata?.namespace ?? ''}/${object.metadata?.name}`;
    const Model = MODELS[object.apiVersion]?.[object.kind];
    if (!Model) {
      problems.push(`${name}: no schema known for this apiVersion/kind (add it to tools/k8s-validate.mjs)`);
      continue;
    }
    try {
      new Model(object).validate();
    } catch (error) {
      problems.push(`${name}: ${error.message}`);
    }
  }
  return { count, problems };
}

const scratch = mkdtempSync(join(root, '.validate-'));
let failed = false;
try {
  for (const dir of targets(scratch)) {
    const label = dir === scratch ? 'base + every component' : relative(root, dir);
    const { count, problems } = validate(dir);
    console.log(`${label}: ${count} objects, ${problems.length === 0 ? 'all valid' : `${problems.length} invalid`}`);
    for (const problem of problems) console.log(`  ${problem}`);
    failed ||= problems.length > 0;
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
