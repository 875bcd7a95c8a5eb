#!/usr/bin/env node
// Entry of `npm start` and `npm run devnet`. Plain JavaScript so it runs on a fresh
// clone: installs what is missing (node_modules, nats-server), then hands over to the
// TypeScript launcher.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  return result.status === 0;
}

function has(command) {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) {
  console.log('orchestra: installing dependencies (npm ci)…');
  if (!run('npm', ['ci', '--no-audit', '--no-fund'])) {
    console.error('orchestra: npm ci failed; see the output above.');
    process.exit(1);
  }
}

if (!process.env.NATS_SERVER_BIN && !has('nats-server')) {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (root && has('apt-get')) {
    console.log('orchestra: nats-server is missing; installing it with apt-get…');
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['install', '-y', '-qq', 'nats-server']);
  }
  if (!has('nats-server')) {
    console.error(
      'orchestra: nats-server (2.9 or newer, with JetStream) is required but was not found.\n' +
        '  Debian/Ubuntu: sudo apt-get install nats-server\n' +
        '  Other systems: https://docs.nats.io/running-a-nats-service/introduction/installation\n' +
        '  Or point NATS_SERVER_BIN at the binary.',
    );
    process.exit(1);
  }
}

require(join(root, 'node_modules', '@swc-node', 'register'));
require('./launcher/main.ts');
