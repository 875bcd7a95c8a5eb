import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { REPO_ROOT } from './devnet-stack';

/** The overlays k8s/ ships. */
export const K8S_OVERLAYS = ['production', 'staging'] as const;

/** `NAME=value` → [NAME, value]. */
const pair = (line: string): [string, string] => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)];

/**
 * The shared environment an overlay of k8s/ gives every service: k8s/base/orchestra.env
 * with the overlay's `orchestra-config` literals merged on top, so specs can check that
 * each service accepts what the manifests configure.
 */
export function shippedEnv(overlay: (typeof K8S_OVERLAYS)[number]): Record<string, string> {
  const k8s = join(REPO_ROOT, 'k8s');
  const base = readFileSync(join(k8s, 'base', 'orchestra.env'), 'utf8')
    .split('\n')
    .filter((line) => /^[A-Z_]+=/.test(line));
  const kustomization = parse(readFileSync(join(k8s, 'overlays', overlay, 'kustomization.yaml'), 'utf8')) as {
    configMapGenerator?: Array<{ name: string; literals?: string[] }>;
  };
  const literals = kustomization.configMapGenerator?.find((g) => g.name === 'orchestra-config')?.literals ?? [];
  return Object.fromEntries([...base, ...literals].map(pair));
}

/**
 * The Node flags the app's Deployment runs it with (`NODE_OPTIONS` in k8s/base/<app>.yaml),
 * so tests and benchmarks start each service as production does and its memory is measured
 * with the same heap settings; `--enable-source-maps` alone for an app without a Deployment
 * (the devnet).
 */
export function shippedNodeFlags(app: string): string[] {
  let manifest: string;
  try {
    manifest = readFileSync(join(REPO_ROOT, 'k8s', 'base', `${app}.yaml`), 'utf8');
  } catch {
    return ['--enable-source-maps'];
  }
  const deployment = parseAllDocuments(manifest)
    .map((doc) => doc.toJS() as { kind?: string; spec?: { template?: { spec?: { containers?: Array<{ env?: Array<{ name: string; value?: string }> }> } } } })
    .find((doc) => doc?.kind === 'Deployment');
  const options = deployment?.spec?.template?.spec?.containers?.[0]?.env?.find((e) => e.name === 'NODE_OPTIONS')?.value;
  if (options === undefined) throw new Error(`k8s/base/${app}.yaml: its Deployment sets no NODE_OPTIONS; set them there (the services' Node flags live in one place)`);
  return options.split(/\s+/).filter(Boolean);
}
