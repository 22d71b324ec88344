/**
 * @module tensor/methods — the Tensor methods that run ops, installed on `Tensor.prototype`.
 *
 * `tensor.ts` declares these methods (so its class type is whole) but imports none of the op
 * files, which all build on it: elementwise → indexing → reduce → linalg → conv → here, a
 * one-way chain. This file is the one place that reaches back: each method is the op
 * function of the same name applied to `this`. `tensor/index.ts` imports this file before it
 * exports anything, so every entry point has the methods before a tensor exists; code outside
 * `runtime/tensor/` imports tensors only through that index (a layout test checks it).
 * The methods are installed non-enumerable, as class methods are.
 */
import { noGrad } from '../autograd.ts';
import type { DType } from '../dtype.ts';
import { tidy } from '../memory.ts';
import * as ew from './elementwise.ts';
import * as ix from './indexing.ts';
import * as la from './linalg.ts';
import * as rd from './reduce.ts';
import {
  Tensor,
  checkInPlace,
  type GeluOptions,
  type TensorOpMethods,
  type SoftplusOptions,
  type TensorLike,
  type ValuesIndices,
  type VarOptions,
} from './tensor.ts';

function inPlace<T extends Tensor>(t: T, op: string, compute: () => Tensor): T {
  checkInPlace(op, t);
  tidy(() => {
    const r = noGrad(compute);
    t.copy_(r);
  });
  return t;
}

function max(this: Tensor): Tensor;
function max(this: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
function max(this: Tensor, dim?: number, keepdim = false): Tensor | ValuesIndices {
  return dim === undefined ? rd.amax(this) : rd.maxDim('max', this, dim, keepdim);
}

function min(this: Tensor): Tensor;
function min(this: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
function min(this: Tensor, dim?: number, keepdim = false): Tensor | ValuesIndices {
  return dim === undefined ? rd.amin(this) : rd.maxDim('min', this, dim, keepdim);
}

/** Each op method `tensor.ts` declares; the compiler checks each against its declaration. */
const methods: TensorOpMethods & ThisType<Tensor> = {
  to(dtype: DType) {
    return ew.cast(this, dtype);
  },
  float() {
    return ew.cast(this, 'float32');
  },
  double() {
    return ew.cast(this, 'float64');
  },
  int() {
    return ew.cast(this, 'int32');
  },
  bool() {
    return ew.cast(this, 'bool');
  },

  add_(other: TensorLike, alpha = 1) {
    return inPlace(this, 'add_', () => ew.add(this, alpha === 1 ? other : ew.mul(other, alpha)));
  },
  sub_(other: TensorLike, alpha = 1) {
    return inPlace(this, 'sub_', () => ew.sub(this, alpha === 1 ? other : ew.mul(other, alpha)));
  },
  mul_(other: TensorLike) {
    return inPlace(this, 'mul_', () => ew.mul(this, other));
  },
  div_(other: TensorLike) {
    return inPlace(this, 'div_', () => ew.div(this, other));
  },

  add(other: TensorLike) {
    return ew.add(this, other);
  },
  sub(other: TensorLike) {
    return ew.sub(this, other);
  },
  mul(other: TensorLike) {
    return ew.mul(this, other);
  },
  div(other: TensorLike) {
    return ew.div(this, other);
  },
  pow(exponent: TensorLike) {
    return ew.pow(this, exponent);
  },
  maximum(other: TensorLike) {
    return ew.maximum(this, other);
  },
  minimum(other: TensorLike) {
    return ew.minimum(this, other);
  },
  neg() {
    return ew.neg(this);
  },
  abs() {
    return ew.abs(this);
  },
  sign() {
    return ew.sign(this);
  },
  sqrt() {
    return ew.sqrt(this);
  },
  rsqrt() {
    return ew.rsqrt(this);
  },
  exp() {
    return ew.exp(this);
  },
  log() {
    return ew.log(this);
  },
  square() {
    return ew.mul(this, this);
  },
  reciprocal() {
    return ew.div(1, this);
  },
  clamp(min: number | null, max: number | null = null) {
    return ew.clamp(this, min, max);
  },
  eq(other: TensorLike) {
    return ew.compare('eq', this, other);
  },
  ne(other: TensorLike) {
    return ew.compare('ne', this, other);
  },
  lt(other: TensorLike) {
    return ew.compare('lt', this, other);
  },
  le(other: TensorLike) {
    return ew.compare('le', this, other);
  },
  gt(other: TensorLike) {
    return ew.compare('gt', this, other);
  },
  ge(other: TensorLike) {
    return ew.compare('ge', this, other);
  },
  logicalNot() {
    return ew.logicalNot(this);
  },
  relu() {
    return ew.relu(this);
  },
  leakyRelu(negativeSlope = 0.01) {
    return ew.leakyRelu(this, negativeSlope);
  },
  sigmoid() {
    return ew.sigmoid(this);
  },
  tanh() {
    return ew.tanh(this);
  },
  gelu(options: GeluOptions = {}) {
    return ew.gelu(this, options);
  },
  silu() {
    return ew.silu(this);
  },
  softplus(options: SoftplusOptions = {}) {
    return ew.softplus(this, options);
  },
  elu(alpha = 1) {
    return ew.elu(this, alpha);
  },

  sum(dim?: number | readonly number[], keepdim = false) {
    return rd.sum(this, dim, keepdim);
  },
  mean(dim?: number | readonly number[], keepdim = false) {
    return rd.mean(this, dim, keepdim);
  },
  max,
  min,
  argmax(dim?: number, keepdim = false) {
    return rd.argExtreme('argmax', this, dim, keepdim);
  },
  argmin(dim?: number, keepdim = false) {
    return rd.argExtreme('argmin', this, dim, keepdim);
  },
  var(dim?: number | readonly number[], options: VarOptions = {}) {
    return rd.variance(this, dim, options);
  },
  std(dim?: number | readonly number[], options: VarOptions = {}) {
    return rd.std(this, dim, options);
  },
  logSumExp(dim: number | readonly number[], keepdim = false) {
    return rd.logSumExp(this, dim, keepdim);
  },
  softmax(dim: number) {
    return rd.softmax(this, dim);
  },
  logSoftmax(dim: number) {
    return rd.logSoftmax(this, dim);
  },

  matmul(other: Tensor) {
    return la.matmul(this, other);
  },

  gather(dim: number, index: Tensor) {
    return ix.gather(this, dim, index);
  },
  indexSelect(dim: number, index: Tensor) {
    return ix.indexSelect(this, dim, index);
  },
};

for (const [name, fn] of Object.entries(methods)) {
  Object.defineProperty(Tensor.prototype, name, { value: fn, writable: true, configurable: true, enumerable: false });
}

export { Tensor };
