# workerd's config for examples/serve/worker.ts, after `esbuild` has bundled it to worker.js
# (test/inference/serve.test.ts does that and writes this file with the port it picked):
#   npx workerd serve workerd.capnp
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .embedWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "main") ],
);

const embedWorker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "kernels.wasm", wasm = embed "kernels.wasm"),   # build/kernels-simd.wasm
    (name = "weights.bin", data = embed "weights.bin"),     # the checkpoint
  ],
  compatibilityDate = "2025-09-01",
  # FinalizationRegistry (which frees the wasm memory of tensors nobody disposed) needs a date
  # from 2025-05-05 on, or the enable_weak_ref flag.
  compatibilityFlags = ["enable_weak_ref"],
);
