#!/usr/bin/env node
// Builds the Node-API addon with node-gyp: against OpenBLAS when it links, else with the
// plain C++ kernel. Never fails the install or the build: without the addon Tessera runs on
// stock wasm kernels. Skip with TESSERA_NATIVE_BUILD=0; force the plain kernel with
// TESSERA_NATIVE_BLAS=none.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const say = (message) => console.log(`@tessera/native: ${message}`);

if (process.env.TESSERA_NATIVE_BUILD === '0') {
  say('TESSERA_NATIVE_BUILD=0: not building the addon (Tessera will use stock wasm kernels)');
  process.exit(0);
}

// npm passes its bundled node-gyp to scripts; outside npm, look beside the node binary.
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  const found = candidates.find((c) => c && existsSync(c));
  return found ? [process.execPath, found] : ['node-gyp'];
}

// Build against the headers of the running node (no download: this machine may be offline).
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [`--nodedir=${process.env.npm_config_nodedir}`];
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

const [command, ...prefixArgs] = findNodeGyp();
const blasOptions = process.env.TESSERA_NATIVE_BLAS === 'none' ? ['none'] : ['openblas', 'none'];
for (const blas of blasOptions) {
  const result = spawnSync(command, [...prefixArgs, 'rebuild', '--release', ...nodedirArgs(), `--tessera_blas=${blas}`], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, JOBS: '2' },
  });
  if (result.status === 0) {
    say(`built build/Release/tessera_native.node (${blas === 'openblas' ? 'OpenBLAS' : 'plain C++ kernel, no BLAS'})`);
    process.exit(0);
  }
  const tail = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`
    .trim()
    .split('\n')
    .slice(-8)
    .join('\n');
  say(`build with blas=${blas} failed:\n${tail}`);
}
say('could not build the addon; Tessera will run on stock wasm kernels. Needs a C++ toolchain (and libopenblas-dev for full speed).');
process.exit(0);
