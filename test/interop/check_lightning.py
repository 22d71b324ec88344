"""Checks a checkpoint our Trainer wrote (test/interop/make-lightning.mjs) with torch and
Lightning, and writes a real Lightning checkpoint for our reader's tests.
Usage: python3 test/interop/check_lightning.py <dir> [<out-dir for real-lightning.ckpt>]"""
import json
import os
import sys

import torch
from torch import nn
import torch.nn.functional as F

try:
    import lightning.pytorch as pl
except ImportError:
    import pytorch_lightning as pl

root = sys.argv[1]
exp = json.load(open(os.path.join(root, "lightning-expected.json")))
# make-lightning.mjs records the path it saw; find the same file under <dir>.
ckpt_path = None
for dirpath, _, files in os.walk(root):
    for f in files:
        if f.endswith(".ckpt") and f == os.path.basename(exp["ckpt"]):
            ckpt_path = os.path.join(dirpath, f)
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


class LitAutoEncoder(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(28 * 28, 64), nn.ReLU(), nn.Linear(64, 3))
        self.decoder = nn.Sequential(nn.Linear(3, 64), nn.ReLU(), nn.Linear(64, 28 * 28))

    def forward(self, x):
        return self.encoder(x)

    def training_step(self, batch, batch_idx):
        x, = batch
        x = x.view(x.size(0), -1)
        loss = F.mse_loss(self.decoder(self.encoder(x)), x)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


raw = torch.load(ckpt_path, weights_only=True)
print("checkpoint keys:", sorted(raw.keys()))
check(raw["global_step"] == exp["globalStep"], f"torch {torch.__version__}: weights_only load, global_step {raw['global_step']}")
for key in ["epoch", "global_step", "pytorch-lightning_version", "state_dict", "loops", "callbacks", "optimizer_states", "lr_schedulers"]:
    check(key in raw, f"checkpoint has '{key}'")

model = LitAutoEncoder.load_from_checkpoint(ckpt_path)
model.eval()
x = torch.tensor(exp["input"], dtype=torch.float32).view(4, 784)
with torch.no_grad():
    z = model(x).flatten()
ours = torch.tensor(exp["embedding"], dtype=torch.float32)
err = (z - ours).abs().max().item()
check(err < 1e-5, f"Lightning {pl.__version__} load_from_checkpoint: encoder output matches ours (max abs diff {err:.2e})")

# Lightning resumes training from our checkpoint: weights, optimizer state and loop counters.
try:
    data = torch.utils.data.TensorDataset(torch.rand(64, 1, 28, 28))
    trainer = pl.Trainer(max_steps=exp["globalStep"] + 5, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, accelerator="cpu")
    resumed = LitAutoEncoder()
    trainer.fit(resumed, torch.utils.data.DataLoader(data, batch_size=16), ckpt_path=ckpt_path)
    check(trainer.global_step == exp["globalStep"] + 5, f"Lightning resumes fit from our checkpoint (global_step {trainer.global_step})")
except Exception as e:  # report, don't hide
    check(False, f"Lightning resumes fit from our checkpoint: {type(e).__name__}: {e}")

# A real Lightning checkpoint for our reader: a small module with Adam, StepLR and hparams.
if len(sys.argv) > 2:
    class LitSmall(pl.LightningModule):
        def __init__(self, hidden=3, lr=0.01):
            super().__init__()
            self.save_hyperparameters()
            self.net = nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), nn.Linear(hidden, 2))

        def forward(self, x):
            return self.net(x)

        def training_step(self, batch, batch_idx):
            x, y = batch
            loss = F.mse_loss(self.net(x), y)
            self.log("train_loss", loss)
            return loss

        def configure_optimizers(self):
            opt = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5), "interval": "step"}}

    torch.manual_seed(0)
    ds = torch.utils.data.TensorDataset(torch.randn(12, 4), torch.randn(12, 2))
    t = pl.Trainer(max_steps=3, default_root_dir=sys.argv[2], enable_progress_bar=False, enable_model_summary=False, logger=False, accelerator="cpu")
    small = LitSmall()
    t.fit(small, torch.utils.data.DataLoader(ds, batch_size=4))
    out = os.path.join(sys.argv[2], "real-lightning.ckpt")
    t.save_checkpoint(out)
    with torch.no_grad():
        probe = torch.arange(8, dtype=torch.float32).view(2, 4) / 8
        json.dump({"lightning": pl.__version__, "torch": torch.__version__, "probe": probe.flatten().tolist(),
                   "output": small(probe).flatten().tolist(), "global_step": t.global_step},
                  open(os.path.join(sys.argv[2], "real-lightning.json"), "w"))
    print("wrote", out, os.path.getsize(out), "bytes")

print(f"interop lightning: {len(failures)} failed")
sys.exit(1 if failures else 0)
