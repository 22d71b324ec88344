/**
 * @module grad-cases — the differentiable ops and the points at which their gradients are
 * checked, shared by the finite-difference check and the cross-backend gradient parity test.
 * Points avoid kinks (0 for relu/abs, clamp bounds, ties for max/min).
 */
import {
  abs,
  add,
  amax,
  amin,
  cat,
  clamp,
  div,
  elu,
  exp,
  gather,
  gelu,
  indexSelect,
  leakyRelu,
  linear,
  log,
  logSoftmax,
  logSumExp,
  matmul,
  maximum,
  mean,
  minimum,
  mul,
  neg,
  pow,
  relu,
  scatterAdd,
  sigmoid,
  silu,
  softmax,
  softplus,
  sqrt,
  stack,
  std,
  sub,
  sum,
  tanh,
  where,
  type Tensor,
} from '../../runtime/index.ts';
import { variance } from '../../runtime/tensor/index.ts';
import { input, points, type GradInput } from '../helpers/gradcheck.ts';

export interface Case {
  readonly name: string;
  readonly fn: (...xs: Tensor[]) => Tensor;
  readonly inputs: readonly GradInput[];
}

const idx = (shape: readonly number[], data: readonly number[]): GradInput => ({
  shape,
  data,
  dtype: 'int32',
  requiresGrad: false,
});
const mask = (shape: readonly number[], data: readonly number[]): GradInput => ({
  shape,
  data,
  dtype: 'bool',
  requiresGrad: false,
});
const pos = (shape: readonly number[], seed: number): GradInput => input(shape, seed, { lo: 0.3, hi: 2.5 });

export const ELEMENTWISE: readonly Case[] = [
  { name: 'add', fn: (a, b) => add(a!, b!), inputs: [input([3, 5], 1), input([3, 5], 2)] },
  {
    name: 'add: broadcast [3,1] + [1,4] sums gradients back',
    fn: (a, b) => add(a!, b!),
    inputs: [input([3, 1], 3), input([1, 4], 4)],
  },
  {
    name: 'add: broadcast [2,3,4] + [4] and a scalar',
    fn: (a, b) => add(add(a!, b!), 2),
    inputs: [input([2, 3, 4], 5), input([4], 6)],
  },
  { name: 'sub', fn: (a, b) => sub(a!, b!), inputs: [input([2, 3], 7), input([3], 8)] },
  { name: 'sub: scalar minus tensor', fn: (a) => sub(1.5, a!), inputs: [input([4], 9)] },
  { name: 'mul', fn: (a, b) => mul(a!, b!), inputs: [input([4, 1], 10), input([3], 11)] },
  { name: 'mul: x * x (one tensor used twice)', fn: (a) => mul(a!, a!), inputs: [input([5], 12)] },
  { name: 'div', fn: (a, b) => div(a!, b!), inputs: [input([2, 3], 13), pos([2, 1], 14)] },
  { name: 'div: scalar over tensor', fn: (a) => div(2, a!), inputs: [pos([5], 15)] },
  { name: 'pow: both args', fn: (a, b) => pow(a!, b!), inputs: [pos([2, 3], 16), input([2, 3], 17)] },
  { name: 'pow: broadcast exponent', fn: (a, b) => pow(a!, b!), inputs: [pos([3, 2], 18), input([2], 19)] },
  { name: 'pow: tensor ** 3 and 2 ** tensor', fn: (a) => add(pow(a!, 3), pow(2, a!)), inputs: [input([5], 20)] },
  { name: 'neg', fn: (a) => neg(a!), inputs: [input([5], 21)] },
  { name: 'abs', fn: (a) => abs(a!), inputs: [input([7], 22, { avoid: [0] })] },
  { name: 'sqrt', fn: (a) => sqrt(a!), inputs: [pos([5], 23)] },
  { name: 'exp', fn: (a) => exp(a!), inputs: [input([5], 24)] },
  { name: 'log', fn: (a) => log(a!), inputs: [pos([5], 25)] },
  { name: 'clamp: both bounds', fn: (a) => clamp(a!, -0.5, 0.7), inputs: [input([9], 26, { avoid: [-0.5, 0.7] })] },
  { name: 'clamp: min only', fn: (a) => clamp(a!, 0.2), inputs: [input([6], 27, { avoid: [0.2] })] },
  { name: 'clamp: max only', fn: (a) => clamp(a!, null, -0.1), inputs: [input([6], 28, { avoid: [-0.1] })] },
  { name: 'minimum: broadcast', fn: (a, b) => minimum(a!, b!), inputs: [input([3, 4], 29), input([4], 30)] },
  { name: 'maximum', fn: (a, b) => maximum(a!, b!), inputs: [input([2, 5], 31), input([2, 5], 32)] },
  {
    name: 'where: both branches with broadcasting',
    fn: (c, a, b) => where(c!, a!, b!),
    inputs: [mask([2, 3], [1, 0, 1, 0, 0, 1]), input([2, 3], 33), input([3], 34)],
  },
  { name: 'relu', fn: (a) => relu(a!), inputs: [input([9], 35, { avoid: [0] })] },
  { name: 'leakyRelu', fn: (a) => leakyRelu(a!, 0.1), inputs: [input([9], 36, { avoid: [0] })] },
  { name: 'sigmoid', fn: (a) => sigmoid(a!), inputs: [input([7], 37, { lo: -4, hi: 4 })] },
  { name: 'tanh', fn: (a) => tanh(a!), inputs: [input([7], 38)] },
  { name: 'gelu (exact)', fn: (a) => gelu(a!), inputs: [input([9], 39, { lo: -3, hi: 3 })] },
  { name: 'gelu (tanh)', fn: (a) => gelu(a!, { approximate: 'tanh' }), inputs: [input([9], 40, { lo: -3, hi: 3 })] },
  { name: 'silu', fn: (a) => silu(a!), inputs: [input([7], 41, { lo: -4, hi: 4 })] },
  { name: 'softplus', fn: (a) => softplus(a!), inputs: [input([7], 42, { lo: -4, hi: 4 })] },
  {
    name: 'softplus: beta 2, threshold 1 (both branches)',
    fn: (a) => softplus(a!, { beta: 2, threshold: 1 }),
    inputs: [input([9], 43, { avoid: [0.5] })],
  },
  { name: 'elu', fn: (a) => elu(a!, 0.7), inputs: [input([9], 44, { avoid: [0] })] },
];

export const REDUCTIONS: readonly Case[] = [
  { name: 'sum: all', fn: (a) => sum(a!), inputs: [input([3, 4], 50)] },
  { name: 'sum: dim 1', fn: (a) => sum(a!, 1), inputs: [input([3, 4], 51)] },
  { name: 'sum: dims [0,2] keepdim', fn: (a) => sum(a!, [0, 2], true), inputs: [input([2, 3, 4], 52)] },
  { name: 'sum: 0-d input', fn: (a) => sum(a!), inputs: [input([], 53)] },
  { name: 'mean: all', fn: (a) => mean(a!), inputs: [input([3, 4], 54)] },
  { name: 'mean: dim -1 keepdim', fn: (a) => mean(a!, -1, true), inputs: [input([3, 4], 55)] },
  { name: 'amax', fn: (a) => amax(a!), inputs: [input([3, 4], 56)] },
  { name: 'amin', fn: (a) => amin(a!), inputs: [input([3, 4], 57)] },
  { name: 'max(dim).values', fn: (a) => a!.max(1).values, inputs: [input([3, 4], 58)] },
  { name: 'max(dim, keepdim).values', fn: (a) => a!.max(0, true).values, inputs: [input([3, 4], 59)] },
  { name: 'min(dim).values', fn: (a) => a!.min(-1).values, inputs: [input([2, 3, 4], 60)] },
  { name: 'var: all', fn: (a) => variance(a!), inputs: [input([3, 4], 61)] },
  { name: 'var: dim 0, correction 0', fn: (a) => variance(a!, 0, { correction: 0 }), inputs: [input([3, 4], 62)] },
  { name: 'std: dim 1 keepdim', fn: (a) => std(a!, 1, { keepdim: true }), inputs: [input([3, 4], 63)] },
  { name: 'softmax: dim 1', fn: (a) => softmax(a!, 1), inputs: [input([3, 4], 64)] },
  { name: 'softmax: dim 0', fn: (a) => softmax(a!, 0), inputs: [input([3, 4], 65)] },
  { name: 'logSoftmax: dim -1', fn: (a) => logSoftmax(a!, -1), inputs: [input([2, 3, 4], 66)] },
  { name: 'logSumExp: dim 1', fn: (a) => logSumExp(a!, 1), inputs: [input([3, 4], 67)] },
  { name: 'logSumExp: dims [0,1] keepdim', fn: (a) => logSumExp(a!, [0, 1], true), inputs: [input([3, 4], 68)] },
];

export const LINALG: readonly Case[] = [
  { name: 'matmul: 1-D @ 1-D', fn: (a, b) => matmul(a!, b!), inputs: [input([4], 70), input([4], 71)] },
  { name: 'matmul: 1-D @ 2-D', fn: (a, b) => matmul(a!, b!), inputs: [input([3], 72), input([3, 4], 73)] },
  { name: 'matmul: 2-D @ 1-D', fn: (a, b) => matmul(a!, b!), inputs: [input([2, 3], 74), input([3], 75)] },
  { name: 'matmul: 2-D @ 2-D', fn: (a, b) => matmul(a!, b!), inputs: [input([2, 3], 76), input([3, 4], 77)] },
  {
    name: 'matmul: 3-D @ 2-D (broadcast batch)',
    fn: (a, b) => matmul(a!, b!),
    inputs: [input([2, 2, 3], 78), input([3, 2], 79)],
  },
  { name: 'matmul: 2-D @ 3-D', fn: (a, b) => matmul(a!, b!), inputs: [input([2, 3], 80), input([2, 3, 2], 81)] },
  {
    name: 'matmul: [2,1,2,3] @ [3,3,2] (broadcast both)',
    fn: (a, b) => matmul(a!, b!),
    inputs: [input([2, 1, 2, 3], 82), input([3, 3, 2], 83)],
  },
  { name: 'matmul: 3-D @ 1-D', fn: (a, b) => matmul(a!, b!), inputs: [input([2, 2, 3], 84), input([3], 85)] },
  { name: 'matmul: 1-D @ 3-D', fn: (a, b) => matmul(a!, b!), inputs: [input([3], 86), input([2, 3, 2], 87)] },
  {
    name: 'matmul: transposed operands',
    fn: (a, b) => matmul(a!.t(), b!.t()),
    inputs: [input([3, 2], 88), input([4, 3], 89)],
  },
  {
    name: 'linear: with bias',
    fn: (x, w, b) => linear(x!, w!, b!),
    inputs: [input([4, 3], 90), input([2, 3], 91), input([2], 92)],
  },
  { name: 'linear: without bias', fn: (x, w) => linear(x!, w!), inputs: [input([4, 3], 93), input([2, 3], 94)] },
  {
    name: 'linear: 3-D input',
    fn: (x, w, b) => linear(x!, w!, b!),
    inputs: [input([2, 2, 3], 95), input([2, 3], 96), input([2], 97)],
  },
  {
    name: 'linear: 1-D input',
    fn: (x, w, b) => linear(x!, w!, b!),
    inputs: [input([3], 98), input([2, 3], 99), input([2], 100)],
  },
];

export const INDEXING: readonly Case[] = [
  { name: 'cat: dim 0', fn: (a, b) => cat([a!, b!], 0), inputs: [input([2, 3], 110), input([1, 3], 111)] },
  {
    name: 'cat: dim 1, one input constant',
    fn: (a, b) => cat([a!, b!, a!], 1),
    inputs: [input([2, 2], 112), { ...input([2, 1], 113), requiresGrad: false }],
  },
  { name: 'stack: dim 1', fn: (a, b) => stack([a!, b!], 1), inputs: [input([2, 3], 114), input([2, 3], 115)] },
  {
    name: 'gather: dim 1 with repeated indices',
    fn: (x, i) => gather(x!, 1, i!),
    inputs: [input([3, 4], 116), idx([3, 2], [0, 0, 3, 1, 2, 2])],
  },
  { name: 'gather: dim 0', fn: (x, i) => gather(x!, 0, i!), inputs: [input([3, 2], 117), idx([2, 2], [2, 0, 2, 1])] },
  {
    name: 'indexSelect: dim 0 with repeats',
    fn: (x, i) => indexSelect(x!, 0, i!),
    inputs: [input([3, 2], 118), idx([4], [2, 0, 2, 1])],
  },
  { name: 'indexSelect: dim 1', fn: (x, i) => indexSelect(x!, 1, i!), inputs: [input([2, 4], 119), idx([2], [3, 0])] },
  {
    name: 'indexSelect: dim 1 of a 3-D tensor (rows of 4)',
    fn: (x, i) => indexSelect(x!, 1, i!),
    inputs: [input([2, 3, 4], 141), idx([3], [2, 2, 0])],
  },
  {
    name: 'indexSelect: dim 0 of a transposed (non-contiguous) input',
    fn: (x, i) => indexSelect(x!.t(), 0, i!),
    inputs: [input([3, 5], 142), idx([2], [4, 1])],
  },
  {
    name: 'scatterAdd: gradients to base and src',
    fn: (x, i, s) => scatterAdd(x!, 1, i!, s!),
    inputs: [input([2, 4], 120), idx([2, 3], [0, 0, 3, 2, 1, 2]), input([2, 3], 121)],
  },
];

export const VIEWS: readonly Case[] = [
  { name: 'view', fn: (a) => a!.view(3, 4).mul(a!.view(3, 4)), inputs: [input([2, 6], 130)] },
  { name: 'reshape: of a transposed tensor (copies)', fn: (a) => a!.t().reshape(-1), inputs: [input([2, 3], 131)] },
  { name: 'permute', fn: (a) => a!.permute(2, 0, 1).exp(), inputs: [input([2, 3, 2], 132)] },
  { name: 'transpose', fn: (a) => a!.transpose(0, 2).exp(), inputs: [input([2, 3, 2], 133)] },
  { name: 't', fn: (a) => a!.t().exp(), inputs: [input([2, 3], 134)] },
  { name: 'narrow', fn: (a) => a!.narrow(1, 1, 2).exp(), inputs: [input([3, 4], 135)] },
  { name: 'slice: with step', fn: (a) => a!.slice(1, 0, undefined, 2).exp(), inputs: [input([3, 5], 136)] },
  {
    name: 'slice: two overlapping slices',
    fn: (a) => a!.slice(0, 0, 3).mul(a!.slice(0, 1, 4)),
    inputs: [input([4], 137)],
  },
  { name: 'select', fn: (a) => a!.select(1, 2).exp(), inputs: [input([3, 4], 138)] },
  { name: 'expand', fn: (a) => a!.expand(3, 2, 4).exp(), inputs: [input([2, 1], 139)] },
  { name: 'squeeze', fn: (a) => a!.squeeze().exp(), inputs: [input([1, 3, 1], 140)] },
  { name: 'unsqueeze', fn: (a) => a!.unsqueeze(1).exp(), inputs: [input([3], 141)] },
  { name: 'flatten', fn: (a) => a!.flatten(1).exp(), inputs: [input([2, 2, 3], 142)] },
  { name: 'contiguous: of a transpose', fn: (a) => a!.t().contiguous().exp(), inputs: [input([2, 3], 143)] },
  { name: 'clone', fn: (a) => a!.clone().exp(), inputs: [input([4], 144)] },
];

/** A 3→5→ReLU→2 MLP with a softmax cross-entropy-like loss and an MSE term. */
function mlpLoss(x: Tensor, w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, target: Tensor): Tensor {
  const h = linear(x, w1, b1).relu();
  const logits = linear(h, w2, b2);
  const nll = logSoftmax(logits, 1).gather(1, target).mean().neg();
  const mse = logits.sub(1).pow(2).mean();
  return nll.add(mse.mul(0.5));
}

export const COMPOSITE: readonly Case[] = [
  {
    name: 'composite: small MLP loss (linear, relu, logSoftmax, gather, mean, pow)',
    fn: (x, w1, b1, w2, b2, t) => mlpLoss(x!, w1!, b1!, w2!, b2!, t!),
    inputs: [
      input([4, 3], 150),
      input([5, 3], 151),
      { shape: [5], data: points(5, 152, { lo: 0.5, hi: 1.5 }) },
      input([2, 5], 153),
      input([2], 154),
      idx([4, 1], [0, 1, 1, 0]),
    ],
  },
  {
    name: 'composite: softmax attention-like product',
    fn: (q, k, v) => matmul(softmax(matmul(q!, k!.transpose(-1, -2)).div(2), -1), v!),
    inputs: [input([2, 3, 2], 155), input([2, 4, 2], 156), input([2, 4, 3], 157)],
  },
];

/** Every group, by name. */
export const GROUPS: readonly (readonly [string, readonly Case[]])[] = [
  ['elementwise', ELEMENTWISE],
  ['reductions', REDUCTIONS],
  ['linalg', LINALG],
  ['indexing', INDEXING],
  ['views', VIEWS],
  ['composite', COMPOSITE],
];
