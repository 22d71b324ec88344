#!/usr/bin/env bash
# @module bench/gpu-prepare — fills .devcarry/ (gitignored) with what bench/gpu.sh needs on a
# device machine that has no Node, no npm and no network:
#   node.xz                      this machine's node binary, xz-compressed (the device is x86-64 too)
#   rt/runtime, rt/bindings      the TypeScript sources transpiled to JS (no build step there)
#   rt/node_modules/webgpu       the `webgpu` package (Dawn) with only its dist/linux-x64, whose
#                                dawn.node is stored as dawn.node.xz (gpu.sh unpacks it)
#   deb/libvulkan1_*.deb         the Vulkan loader, unpacked there only if the machine lacks one
# Run it here, then: device run with carry [".devcarry"] and command `bash bench/gpu.sh`.
# The webgpu package comes from node_modules/webgpu when installed (an optional dependency),
# else from `npm install --prefix node_modules/.cache/lts-webgpu webgpu` (outside .devcarry, so
# only the linux-x64 build travels; the shared node_modules tree itself is untouched).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
C="$ROOT/.devcarry"
mkdir -p "$C"

# 1. node, recompressed only when this machine's node changed.
NODE_BIN=$(command -v node)
if [ ! -s "$C/node.xz" ] || [ "$(cat "$C/node.version" 2>/dev/null)" != "$(node --version)" ]; then
  echo "gpu-prepare: compressing $NODE_BIN ($(node --version)) into .devcarry/node.xz (takes a minute or two)"
  xz -T0 -6 -c "$NODE_BIN" > "$C/node.xz.tmp"
  mv "$C/node.xz.tmp" "$C/node.xz"
  node --version > "$C/node.version"
fi

# 2. the webgpu package, linux-x64 build only.
PKG="$ROOT/node_modules/webgpu"
if [ ! -f "$PKG/dist/linux-x64/dawn.node" ]; then
  NPM_PREFIX="$ROOT/node_modules/.cache/lts-webgpu"
  PKG="$NPM_PREFIX/node_modules/webgpu"
  if [ ! -f "$PKG/dist/linux-x64/dawn.node" ]; then
    echo "gpu-prepare: node_modules/webgpu absent; npm install --prefix node_modules/.cache/lts-webgpu webgpu"
    mkdir -p "$NPM_PREFIX"
    npm install --prefix "$NPM_PREFIX" --no-save --no-audit --no-fund --ignore-scripts webgpu >/dev/null
  fi
fi
DST="$C/rt/node_modules/webgpu"
if [ ! -s "$DST/dist/linux-x64/dawn.node.xz" ] || ! cmp -s "$PKG/package.json" "$DST/package.json"; then
  echo "gpu-prepare: compressing the webgpu package's linux-x64 dawn.node"
  rm -rf "$DST"
  mkdir -p "$DST/dist/linux-x64"
  cp "$PKG/index.js" "$PKG/package.json" "$DST/"
  xz -T0 -6 -c "$PKG/dist/linux-x64/dawn.node" > "$DST/dist/linux-x64/dawn.node.xz"
fi

# 3. the Vulkan loader's .deb (amd64), as /work/.library/device/README.md fetches debs.
if ! ls "$C"/deb/libvulkan1_*.deb >/dev/null 2>&1; then
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/lts-apt-amd64'
  mkdir -p /tmp/lts-apt-amd64/partial
  # shellcheck disable=SC2086
  apt-get $o update >/dev/null
  # shellcheck disable=SC2086
  mkdir -p "$C/deb"
  (cd "$C/deb" && apt-get $o download libvulkan1 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
  ls "$C"/deb/libvulkan1_*.deb >/dev/null
fi

# 4. runtime/ and bindings/ transpiled (type-only imports erased, .ts specifiers → .js).
rm -rf "$C/rt/runtime" "$C/rt/bindings"
(cd "$ROOT" && node --input-type=module - "$C/rt" <<'JS'
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ts from 'typescript';
const out = process.argv[2];
const walk = (dir) => readdirSync(dir).flatMap((e) => {
  const p = join(dir, e);
  return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
});
let n = 0;
for (const file of [...walk('runtime'), ...walk('bindings')]) {
  const js = ts.transpileModule(readFileSync(file, 'utf8'), {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true, rewriteRelativeImportExtensions: true },
    fileName: file,
  }).outputText;
  const dst = join(out, file.replace(/\.ts$/, '.js'));
  mkdirSync(dirname(dst), { recursive: true });
  writeFileSync(dst, js);
  n++;
}
writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');
console.log(`gpu-prepare: transpiled ${n} files into ${out}`);
JS
)
du -sh "$C"/node.xz "$C"/rt "$C"/deb | sed 's/^/gpu-prepare: /'
echo "gpu-prepare: total $(du -sh "$C" | cut -f1) to carry (a device run carries at most 64 MiB with the working tree)"
