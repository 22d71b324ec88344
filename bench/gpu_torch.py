"""@module bench/gpu_torch — the PyTorch CUDA column of bench/gpu.sh: the same three workloads as
bench/gpu.mjs, in float32 with TF32 off (torch.backends.cuda.matmul.allow_tf32 = False,
torch.backends.cudnn.allow_tf32 = False, float32 matmul precision 'highest'), so both sides
do full fp32 arithmetic.

- matmul: torch.mm(a, b, out=c) on n×n, `iters` back to back then sync();
  median of the runs, TFLOP/s = 2n³ / time;
- seed: the autoencoder (784→64→ReLU→3 / 3→64→ReLU→784), F.mse_loss, torch.optim.Adam(lr=1e-3)
  with its CUDA default (foreach), 8 random batches resident on the GPU used in turn; warm-up
  steps, then N timed steps closed by synchronize(); samples/s;
- mlp: 784→H→ReLU→H→ReLU→10, F.cross_entropy on random labels, Adam lr 1e-3; ms per step.

The sizes come from ours.json's `config` (--config), so both sides run the same work; without it,
the full sizes. Without CUDA it writes {"skipped": why} and exits 0, so the table says so.
Usage: python3 bench/gpu_torch.py [--config ours.json] [--out torch.json] [--cpu-check]
--cpu-check runs the same code on the CPU when CUDA is absent, only to check the script itself
(bench/gpu.sh --smoke uses it; its figures are labelled cpu and are no CUDA baseline).
"""
import argparse
import json
import statistics
import time

FULL = {
    "matmul": [1024, 2048, 4096, 8192], "matmulRuns": 5, "matmulRunMs": 300,
    "seed": [{"batch": 256, "warmup": 30, "steps": 300}, {"batch": 4096, "warmup": 10, "steps": 100}],
    "mlp": {"hidden": 4096, "batch": 1024, "warmup": 5, "steps": 30},
    "batches": 8,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config")
    ap.add_argument("--out")
    ap.add_argument("--cpu-check", action="store_true")
    args = ap.parse_args()
    config = FULL
    if args.config:
        try:
            with open(args.config) as f:
                config = json.load(f)["config"]
        except (OSError, KeyError, ValueError) as e:
            print(f"gpu_torch: no config in {args.config} ({e}); using the full sizes")

    def write(result):
        if args.out:
            with open(args.out, "w") as f:
                json.dump(result, f, indent=2)

    try:
        import torch
        import torch.nn.functional as F
    except ImportError as e:
        print(f"gpu_torch: PyTorch is not installed ({e}); skipping the torch column")
        write({"skipped": "PyTorch not installed"})
        return
    cuda = torch.cuda.is_available()
    if not cuda and not args.cpu_check:
        print("gpu_torch: CUDA is absent (torch.cuda.is_available() is False); skipping the torch column")
        write({"skipped": "no CUDA device"})
        return

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    dev = torch.device("cuda" if cuda else "cpu")
    name = torch.cuda.get_device_name(dev) if cuda else "cpu (--cpu-check: a check of this script, no CUDA figures)"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    print(f"gpu_torch: torch {torch.__version__} on {name}; TF32 off")
    result = {"torch": torch.__version__, "device": name, "cuda": cuda, "matmul": [], "seed": [], "mlp": None}

    for n in config["matmul"]:
        a = torch.rand(n, n, device=dev) - 0.5
        b = torch.rand(n, n, device=dev) - 0.5
        c = torch.empty(n, n, device=dev)
        torch.mm(a, b, out=c)
        sync()
        t0 = time.perf_counter()
        torch.mm(a, b, out=c)
        sync()
        one = (time.perf_counter() - t0) * 1e3
        iters = max(2, min(500, round(config["matmulRunMs"] / max(one, 1e-3))))
        times = []
        for _ in range(config["matmulRuns"]):
            t0 = time.perf_counter()
            for _ in range(iters):
                torch.mm(a, b, out=c)
            sync()
            times.append((time.perf_counter() - t0) * 1e3 / iters)
        ms = statistics.median(times)
        row = {"n": n, "ms": ms, "tflops": 2 * n ** 3 / (ms * 1e-3) / 1e12, "iters": iters}
        result["matmul"].append(row)
        print(f"matmul {n}: {row['tflops']:.2f} TFLOP/s ({ms:.3f} ms per product)")
        del a, b, c

    def train(make_model, batch, warmup, steps, loss_of):
        torch.manual_seed(0)
        model = make_model().to(dev)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        nb = config["batches"]
        data = torch.rand(nb * batch, 784, device=dev)
        labels = torch.randint(0, 10, (nb * batch,), device=dev)

        def step(i):
            at = (i % nb) * batch
            loss = loss_of(model, data[at:at + batch], labels[at:at + batch])
            opt.zero_grad()
            loss.backward()
            opt.step()

        for i in range(warmup):
            step(i)
        sync()
        t0 = time.perf_counter()
        for i in range(steps):
            step(i)
        sync()
        ms = (time.perf_counter() - t0) * 1e3
        return {"batch": batch, "steps": steps, "ms": ms, "msPerStep": ms / steps, "samplesPerSec": steps * batch * 1e3 / ms}

    class Seed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = torch.nn.Sequential(torch.nn.Linear(784, 64), torch.nn.ReLU(), torch.nn.Linear(64, 3))
            self.decoder = torch.nn.Sequential(torch.nn.Linear(3, 64), torch.nn.ReLU(), torch.nn.Linear(64, 784))

    for s in config["seed"]:
        row = train(Seed, s["batch"], s["warmup"], s["steps"], lambda m, x, y: F.mse_loss(m.decoder(m.encoder(x)), x))
        result["seed"].append(row)
        print(f"seed batch {s['batch']}: {row['samplesPerSec']:.0f} samples/s ({row['msPerStep']:.3f} ms per step)")

    h = config["mlp"]["hidden"]
    mlp = train(
        lambda: torch.nn.Sequential(torch.nn.Linear(784, h), torch.nn.ReLU(), torch.nn.Linear(h, h), torch.nn.ReLU(), torch.nn.Linear(h, 10)),
        config["mlp"]["batch"], config["mlp"]["warmup"], config["mlp"]["steps"],
        lambda m, x, y: F.cross_entropy(m(x), y),
    )
    result["mlp"] = {"hidden": h, **mlp}
    print(f"mlp 784-{h}-{h}-10 batch {config['mlp']['batch']}: {mlp['msPerStep']:.3f} ms per step")
    write(result)


if __name__ == "__main__":
    main()
