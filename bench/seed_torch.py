# bench/seed_torch.py — the PyTorch peer of bench/seed.mjs: the seed autoencoder
# (784→64→ReLU→3 / 3→64→ReLU→784, MSELoss, Adam lr 1e-3, betas 0.9/0.999, eps 1e-8) in eager
# mode on the CPU, run with Debian's python3-torch (/usr/bin/python3) and libopenblas0-openmp.
#
# Fairness — what it does per step, and why:
# - the whole shared float32 file is read once into one resident tensor (torch.from_numpy);
#   a batch is the next `batch` rows, a view (data[i:i+b]), as our TensorDataset's slice is;
# - each step: zero_grad(set_to_none=True) (the fast form, default since torch 2.0), forward,
#   mse, backward, optimizer.step(); no loss readback per step, no autocast, no torch.compile
#   (this is the eager loop the figures are for);
# - torch.set_num_threads(threads) (1 or 2: this VM has 2 cores); interop threads left alone;
# - W untimed warm-up steps, then N timed steps; time.perf_counter around the timed steps;
# - peak RSS from resource.getrusage(RUSAGE_SELF).ru_maxrss (KB on Linux).
# Usage: /usr/bin/python3 bench/seed_torch.py '{"batch":32,"warmup":50,"timed":1024,
#   "threads":1,"data":"/tmp/x.f32","samples":8192,"mode":"time"|"startup"}'
import json
import resource
import sys
import time

t_import = time.perf_counter()  # startup mode: import torch → end of the first step
import numpy as np
import torch
from torch import nn

args = json.loads(sys.argv[1])
batch, threads, mode = args["batch"], args["threads"], args["mode"]
startup = mode == "startup"
warmup = 0 if startup else args["warmup"]
timed = 1 if startup else args["timed"]
rows = batch if startup else args["samples"]
torch.set_num_threads(threads)
torch.manual_seed(0)

data = torch.from_numpy(np.fromfile(args["data"], dtype=np.float32, count=rows * 784).reshape(rows, 784))
encoder = nn.Sequential(nn.Linear(28 * 28, 64), nn.ReLU(), nn.Linear(64, 3))
decoder = nn.Sequential(nn.Linear(3, 64), nn.ReLU(), nn.Linear(64, 28 * 28))
params = list(encoder.parameters()) + list(decoder.parameters())
opt = torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
loss_fn = nn.MSELoss()
at = 0


def step():
    global at
    if at + batch > rows:
        at = 0
    x = data[at:at + batch]
    at += batch
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(decoder(encoder(x)), x)
    loss.backward()
    opt.step()


for _ in range(warmup):
    step()
t0 = time.perf_counter()
for _ in range(timed):
    step()
float(params[0][0, 0])
t_end = time.perf_counter()
ms = (t_end - t0) * 1000
print(json.dumps({
    "peer": f"torch-{threads}", "batch": batch, "steps": timed, "ms": ms,
    "samplesPerSec": timed * batch * 1000 / ms,
    "maxRssKB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "torch": torch.__version__,
    "firstStepMs": (t_end - t_import) * 1000 if startup else None,
}))
