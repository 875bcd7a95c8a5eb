import { execFileSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The image is what the build makes: the Dockerfile's COPY sources and entry file, and the
 * Deployments' args, name files the build really produces; every package the services load
 * is a production dependency (the image installs `--omit=dev`). Checked against a real build.
 */
const ROOT = resolve(__dirname, '..');
const SERVICES = ['api', 'planner', 'dispatcher', 'verifier', 'metagraph-sync'];
const dockerfile = readFileSync(join(ROOT, 'k8s', 'Dockerfile'), 'utf8');

beforeAll(() => {
  execFileSync(process.execPath, [join(ROOT, 'tools', 'build.js'), ...SERVICES], { cwd: ROOT });
}, 60_000);

/** The instructions of one stage of the Dockerfile. */
function stage(name: string): string[] {
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const found = stages.find((s) => s.split('\n')[0].trim().endsWith(`AS ${name}`));
  if (!found) throw new Error(`no stage ${name} in k8s/Dockerfile`);
  return found.split('\n').filter((line) => /^[A-Z]+ /.test(line));
}

describe('k8s/Dockerfile against the build output', () => {
  it('builds exactly the five services', () => {
    const run = stage('build').find((line) => line.startsWith('RUN node tools/build.js'));
    expect(run?.split(' ').slice(3).sort()).toEqual([...SERVICES].sort());
  });

  it('copies from the build stage only paths the build produced', () => {
    const copies = stage('runtime').filter((line) => line.startsWith('COPY --from=build'));
    expect(copies.length).toBeGreaterThan(0);
    for (const line of copies) {
      const source = line.split(/\s+/)[2].replace(/^\/src\//, '');
      expect(existsSync(join(ROOT, source))).toBe(true);
    }
  });

  it('copies from the context only paths that exist and that the .dockerignore lets through', () => {
    const allowed = readFileSync(join(ROOT, 'k8s', 'Dockerfile.dockerignore'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('!'))
      .map((line) => line.slice(1).replace(/\/$/, ''));
    const copies = stage('build').filter((line) => line.startsWith('COPY ') && !line.includes('--from'));
    for (const line of copies) {
      const sources = line.split(/\s+/).slice(1, -1);
      for (const source of sources) {
        expect(existsSync(join(ROOT, source))).toBe(true);
        expect(allowed.some((a) => source === a || source.startsWith(`${a}/`))).toBe(true);
      }
    }
  });

  it('starts a built entry file, and so does every Deployment', () => {
    const cmd = JSON.parse(
      stage('runtime')
        .find((line) => line.startsWith('CMD '))
        ?.slice(4) ?? '[]',
    ) as string[];
    expect(existsSync(join(ROOT, cmd[0]))).toBe(true);
    for (const service of SERVICES) {
      const manifest = readFileSync(join(ROOT, 'k8s', 'base', `${service}.yaml`), 'utf8');
      const args = /args: \["([^"]+)"\]/.exec(manifest)?.[1];
      expect(args).toBe(`dist/apps/${service}/src/main.js`);
      expect(existsSync(join(ROOT, args as string))).toBe(true);
    }
  });
});

describe('production dependencies', () => {
  it('cover every package the built services load', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const builtins = new Set(builtinModules);
    const loaded = new Set<string>();
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(/require\(["']([^"']+)["']\)/g)) {
        if (spec.startsWith('.')) {
          const base = resolve(dirname(file), spec);
          const next = [`${base}.js`, join(base, 'index.js'), base].find((p) => existsSync(p) && p.endsWith('.js'));
          if (next) visit(next);
          continue;
        }
        if (spec.startsWith('node:') || builtins.has(spec)) continue;
        loaded.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
      }
    };
    for (const service of SERVICES) visit(join(ROOT, 'dist', 'apps', service, 'src', 'main.js'));
    expect(seen.size).toBeGreaterThan(SERVICES.length * 5);
    const missing = [...loaded].filter((name) => !(name in pkg.dependencies));
    expect(missing).toEqual([]);
    // The image leaves the devnet's simulations and the test harness out; no service may need them.
    expect([...seen].filter((file) => /dist\/libs\/(testing|devnet-miners|fake-subtensor)\//.test(file))).toEqual([]);
  });
});
