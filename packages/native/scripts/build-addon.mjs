#!/usr/bin/env node
// Builds the Node-API addon with node-gyp: against OpenBLAS when it links, else with the
// plain C++ kernel. Never fails the install or the build: without the addon Tessera runs on
// stock wasm kernels. Skip with TESSERA_NATIVE_BUILD=0; force the plain kernel with
// TESSERA_NATIVE_BLAS=none.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
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

// Workspace installs run this script too, possibly while a build runs: one build at a time.
const lock = path.join(root, 'build.lock');
function acquireLock() {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      return true;
    } catch {
      const stale = existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 300_000;
      if (stale) rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) return false;
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
  }
}
if (!acquireLock()) {
  say(`another build holds ${lock}; not building now`);
  process.exit(0);
}
process.on('exit', () => rmSync(lock, { recursive: true, force: true }));

const [command, ...prefixArgs] = findNodeGyp();
const blasOptions = process.env.TESSERA_NATIVE_BLAS === 'none' ? ['none'] : ['openblas', 'none'];
// configure + build (not rebuild): make recompiles only what changed, and a loaded addon is
// never deleted under a running process when another workspace install re-runs this script.
const gyp = (...args) => spawnSync(command, [...prefixArgs, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, JOBS: '2' } });
for (const blas of blasOptions) {
  let result = gyp('configure', '--release', ...nodedirArgs(), `--tessera_blas=${blas}`);
  if (result.status === 0) result = gyp('build', '--release', ...nodedirArgs());
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
