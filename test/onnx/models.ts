/**
 * @module onnx/models — the models the ONNX tests export: the seed autoencoder, a CNN classifier,
 * a convolution and pooling mix, and an embedding; shared by the exporter's tests
 * (test/onnx/export.test.ts) and the interpreter's (test/inference/onnx-session.test.ts).
 */
import { LightningModule } from '../../runtime/lightning/module.ts';
import {
  AdaptiveAvgPool2d,
  AvgPool2d,
  BatchNorm2d,
  Conv2d,
  Dropout,
  Embedding,
  Flatten,
  Linear,
  LogSoftmax,
  MaxPool2d,
  Module,
  ReLU,
  Sequential,
} from '../../runtime/nn/index.ts';
import * as F from '../../runtime/nn/functional.ts';
import { cat, type Tensor, tensor } from '../../runtime/tensor/index.ts';

export class LitAutoEncoder extends LightningModule {
  encoder = new Sequential(new Linear(28 * 28, 64), new ReLU(), new Linear(64, 3));
  decoder = new Sequential(new Linear(3, 64), new ReLU(), new Linear(64, 28 * 28));
  override forward(x: Tensor): Tensor {
    return this.decoder.forward(this.encoder.forward(x));
  }
}

export function cnn(): Sequential {
  const bn = new BatchNorm2d(4);
  // Non-trivial running statistics, so BatchNormalization's inputs matter.
  bn.runningMean!.copy_(tensor([0.1, -0.2, 0.3, 0]));
  bn.runningVar!.copy_(tensor([0.5, 2, 1.5, 0.8]));
  return new Sequential(
    new Conv2d(1, 4, 3, { padding: 1 }),
    new ReLU(),
    new MaxPool2d(2),
    bn,
    new Dropout(0.5),
    new Flatten(),
    new Linear(4 * 6 * 6, 10),
    new LogSoftmax(1),
  );
}

export class Pools extends Module {
  conv = new Conv2d(2, 3, 3, { stride: 2, padding: 'valid', dilation: 1 });
  grouped = new Conv2d(4, 4, 3, { padding: 'same', groups: 2, bias: false });
  avg = new AvgPool2d(3, { stride: 1, countIncludePad: false, padding: 1 });
  gap = new AdaptiveAvgPool2d(1);
  quarter = new AdaptiveAvgPool2d([2, 2]);
  forward(x: Tensor): Tensor {
    const g = this.grouped.forward(cat([x, x.relu().mul(2)], 1));
    const a = this.quarter.forward(this.avg.forward(g)).flatten(1);
    return a.add(this.gap.forward(this.conv.forward(x)).flatten(1).sum(1, true));
  }
}

export class Embed extends Module {
  emb = new Embedding(10, 4);
  forward(ids: Tensor): Tensor {
    return F.logSoftmax(this.emb.forward(ids).flatten(1), 1);
  }
}
