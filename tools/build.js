#!/usr/bin/env node
// Builds the services to plain JavaScript under dist/, mirroring the source tree
// (dist/apps/<app>/src/main.js, dist/libs/<lib>/src/…), so production runs `node
// dist/apps/<app>/src/main.js` with no compiler loaded at start.
//
//   node tools/build.js            every app and lib
//   node tools/build.js api        one app (and every lib; they are small)
//
// SWC does the work, as it does for the tests (.swcrc: decorator metadata for Nest's DI),
// and rewrites the @orchestra/* path aliases of tsconfig.base.json into relative requires,
// so the output needs no loader. The whole tree compiles in well under a second, so it is
// always compiled whole: no timestamps to trust after a branch switch. Each file is written
// to a temporary name and renamed, so two builds at once (parallel test workers) never
// leave a half-written file for a process to load. Non-TypeScript files of a project
// (devnet.config.json, metadata fixtures, .proto files) are copied beside the code, because
// the code finds them relative to __dirname. Specs, e2e scenarios and test fixtures are not built.
'use strict';
const { readFileSync, readdirSync, mkdirSync, writeFileSync, renameSync, existsSync } = require('node:fs');
const { join, relative, dirname, extname, basename } = require('node:path');

const root = join(__dirname, '..');
const out = join(root, 'dist');

function projectsToBuild(names) {
  const libs = readdirSync(join(root, 'libs')).map((name) => join('libs', name));
  const apps = names.length > 0 ? names.map((name) => join('apps', name)) : readdirSync(join(root, 'apps')).map((name) => join('apps', name));
  for (const app of apps) {
    if (!existsSync(join(root, app, 'src', 'main.ts'))) throw new Error(`build: ${app} is not an app (no src/main.ts)`);
  }
  return [...apps, ...libs];
}

function swcOptions() {
  const rc = JSON.parse(readFileSync(join(root, '.swcrc'), 'utf8'));
  const { compilerOptions } = JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8'));
  return {
    ...rc,
    $schema: undefined,
    swcrc: false,
    // Source maps beside the code (inline maps would double the size of what is loaded).
    sourceMaps: true,
    jsc: { ...rc.jsc, baseUrl: root, paths: compilerOptions.paths },
  };
}

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') yield* files(path);
    } else {
      yield path;
    }
  }
}

const skipped = (path) => /\.(spec|e2e|fixture)\.ts$/.test(path) || path.endsWith('.d.ts') || path.endsWith('project.json') || path.endsWith('README.md');

function writeAtomically(target, data) {
  mkdirSync(dirname(target), { recursive: true });
  const temp = `${target}.${process.pid}.tmp`;
  writeFileSync(temp, data);
  renameSync(temp, target);
}

function build(names) {
  const swc = require('@swc/core');
  const options = swcOptions();
  let compiled = 0;
  let copied = 0;
  for (const project of projectsToBuild(names)) {
    for (const source of files(join(root, project))) {
      if (skipped(source)) continue;
      const rel = relative(root, source);
      if (extname(source) === '.ts') {
        const target = join(out, rel.replace(/\.ts$/, '.js'));
        const { code, map } = swc.transformFileSync(source, { ...options, filename: source, sourceFileName: relative(dirname(target), source) });
        if (map) writeAtomically(`${target}.map`, map);
        writeAtomically(target, `${code}\n//# sourceMappingURL=${basename(target)}.map\n`);
        compiled++;
      } else {
        writeAtomically(join(out, rel), readFileSync(source));
        copied++;
      }
    }
  }
  return { compiled, copied };
}

/** The entry file of a built app. */
function builtMain(app) {
  return join(out, 'apps', app, 'src', 'main.js');
}

module.exports = { build, builtMain, distDir: out };

if (require.main === module) {
  const started = Date.now();
  try {
    const { compiled, copied } = build(process.argv.slice(2));
    console.log(`build: ${compiled} files compiled, ${copied} copied into dist/ in ${Date.now() - started} ms`);
  } catch (error) {
    console.error(`build failed: ${error.message}`);
    process.exit(1);
  }
}
