// @module build-wasm — compiles assembly/ into build/kernels-simd.wasm (simd128)
// and build/kernels-relaxed.wasm (relaxed-simd FMA), the two in parallel. The flags
// live in asconfig.json (targets `simd` and `relaxed`).
import { spawn } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const asc = join(dirname(require.resolve('assemblyscript/package.json')), 'bin', 'asc.js');
mkdirSync(join(root, 'build'), { recursive: true });

const builds = [
  { target: 'simd', out: 'build/kernels-simd.wasm' },
  { target: 'relaxed', out: 'build/kernels-relaxed.wasm' },
];

function run(build) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [asc, '--config', 'asconfig.json', '--target', build.target], {
      cwd: root,
      stdio: 'inherit',
    });
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`build-wasm: asc failed; expected exit code 0, got ${code} for ${build.out}`)),
    );
  });
}

const t0 = Date.now();
await Promise.all(builds.map(run));
for (const b of builds) console.log(`build-wasm: ${b.out} ${statSync(join(root, b.out)).size} bytes`);
console.log(`build-wasm: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
