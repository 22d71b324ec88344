"""Reads files that lightning-ts wrote (test/interop/make-files.mjs) with the real
readers: TensorBoard's EventAccumulator, torch.load(weights_only=True) and safetensors.
Usage: python3 test/interop/check.py <dir-written-by-make-files>. Exits non-zero on a mismatch."""
import json
import math
import os
import sys

root = sys.argv[1]
expected = json.load(open(os.path.join(root, "expected.json")))
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


if "tb" in expected:
    from tensorboard.backend.event_processing import event_accumulator as ea

    run = os.path.join(root, "tb", "lightning_logs", "version_0")
    acc = ea.EventAccumulator(run, size_guidance={ea.TENSORS: 0, ea.SCALARS: 0, ea.HISTOGRAMS: 0, ea.IMAGES: 0})
    acc.Reload()
    tags = acc.Tags()
    print("tensorboard tags:", {k: v for k, v in tags.items() if v})
    loss = acc.Scalars("train_loss")
    check([e.step for e in loss] == [0, 1, 2, 3, 4], "tensorboard: train_loss steps 0..4")
    check(all(abs(e.value - v) < 1e-6 for e, v in zip(loss, expected["tb"]["scalars"])), "tensorboard: train_loss values")
    hist = acc.Histograms("weights")
    check(len(hist) == 1 and hist[0].step == 7 and int(hist[0].histogram_value.num) == expected["tb"]["histNum"], "tensorboard: histogram step and count")
    check(abs(hist[0].histogram_value.min + 1) < 1e-6 and abs(hist[0].histogram_value.max - 1) < 1e-6, "tensorboard: histogram min/max")
    img = acc.Images("sample")
    check(len(img) == 1 and [img[0].height, img[0].width] == expected["tb"]["image"], "tensorboard: image size")
    try:
        import io
        from PIL import Image
        pil = Image.open(io.BytesIO(img[0].encoded_image_string))
        check(pil.size == (5, 4) and pil.mode == "RGB", f"tensorboard: PNG decodes ({pil.size}, {pil.mode})")
    except ImportError:
        print("skip PIL decode (no pillow)")
    texts = acc.Tensors("note/text_summary")
    check(len(texts) == 1 and texts[0].tensor_proto.string_val[0] == b"hello **tensorboard**", "tensorboard: text summary")
    from tensorboard.plugins.hparams import plugin_data_pb2
    hp_tags = [t for t in tags.get("tensors", []) if t.startswith("_hparams_/")]
    check(sorted(hp_tags) == ["_hparams_/experiment", "_hparams_/session_end_info", "_hparams_/session_start_info"], f"tensorboard: hparams tags {hp_tags}")
    meta = acc.SummaryMetadata("_hparams_/session_start_info")
    data = plugin_data_pb2.HParamsPluginData.FromString(meta.plugin_data.content)
    hp = dict(data.session_start_info.hparams)
    check(meta.plugin_data.plugin_name == "hparams" and abs(hp["lr"].number_value - 0.001) < 1e-12 and hp["name"].string_value == "seed", f"tensorboard: hparams session_start_info {sorted(hp)}")
    for sub, value in [("loss_train", 0.5), ("loss_val", 0.75)]:
        sacc = ea.EventAccumulator(os.path.join(run, sub))
        sacc.Reload()
        s = sacc.Scalars("loss")
        check(len(s) == 1 and s[0].step == 3 and abs(s[0].value - value) < 1e-6, f"tensorboard: addScalars {sub}")

if "ckpt" in expected:
    import torch

    obj = torch.load(os.path.join(root, "model.ckpt"), weights_only=True)
    check(obj["epoch"] == 3 and obj["global_step"] == 120 and obj["name"] == "seed", f"torch {torch.__version__}: weights_only load of plain values")
    check(obj["nested"]["list"] == [1, 2.5, "x", None, True], "torch: nested list")
    sd = obj["state_dict"]
    check(list(sd.keys()) == list(expected["ckpt"].keys()), f"torch: state_dict keys {list(sd.keys())}")
    for k, e in expected["ckpt"].items():
        t = sd[k]
        ok = list(t.shape) == e["shape"] and t.dtype == torch.float32 and all(abs(a - b) == 0 for a, b in zip(t.flatten().tolist(), e["values"]))
        check(ok, f"torch: {k} shape {list(t.shape)} bitwise values")
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    model.load_state_dict(sd)
    check(True, "torch: nn.Sequential.load_state_dict(strict) accepts ours")

if "safetensors" in expected:
    from safetensors.torch import load_file

    st = load_file(os.path.join(root, "weights.safetensors"))
    check(st["a"].tolist() == expected["safetensors"]["a"] and st["a"].dtype.is_floating_point, "safetensors: a")
    check(st["b"].tolist() == expected["safetensors"]["b"] and str(st["b"].dtype) == "torch.int32", "safetensors: b int32")

print(f"interop: {len(failures)} failed")
sys.exit(1 if failures else 0)
