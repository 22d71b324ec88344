/**
 * @module unary — elementwise functions of one input: `<op>_<dtype>(desc, params...)`.
 * Transcendentals are the vectorised polynomials of common.ts (max error ~2-4 ulp).
 */
import {
  ew, NEG, ABS, SIGN, EXP, LOG, SQRT, RELU, SIGMOID, TANH, GELU, GELU_TANH, SILU, SOFTPLUS,
  ELU, LEAKY, CLAMP, INEG, IABS, ISIGN, ICLAMP, NOT, ROUND_F16, ROUND_BF16,
} from './elementwise';

export function neg_f32(d: usize): void { ew(NEG, 1, 4, 4, 4, 4, d, 0, 0, 0); }
export function abs_f32(d: usize): void { ew(ABS, 1, 4, 4, 4, 4, d, 0, 0, 0); }
/** torch's (0 < x) - (x < 0): sign(NaN) = 0, sign(-0) = +0. */
export function sign_f32(d: usize): void { ew(SIGN, 1, 4, 4, 4, 4, d, 0, 0, 0); }
export function exp_f32(d: usize): void { ew(EXP, 1, 4, 4, 4, 4, d, 0, 0, 0); }
export function log_f32(d: usize): void { ew(LOG, 1, 4, 4, 4, 4, d, 0, 0, 0); }
export function sqrt_f32(d: usize): void { ew(SQRT, 1, 4, 4, 4, 4, d, 0, 0, 0); }
export function relu_f32(d: usize): void { ew(RELU, 1, 4, 4, 4, 4, d, 0, 0, 0); }
export function sigmoid_f32(d: usize): void { ew(SIGMOID, 1, 4, 4, 4, 4, d, 0, 0, 0); }
export function tanh_f32(d: usize): void { ew(TANH, 1, 4, 4, 4, 4, d, 0, 0, 0); }
export function gelu_f32(d: usize): void { ew(GELU, 1, 4, 4, 4, 4, d, 0, 0, 0); }
export function gelu_tanh_f32(d: usize): void { ew(GELU_TANH, 1, 4, 4, 4, 4, d, 0, 0, 0); }
export function silu_f32(d: usize): void { ew(SILU, 1, 4, 4, 4, 4, d, 0, 0, 0); }
export function softplus_f32(d: usize, beta: f64, threshold: f64): void { ew(SOFTPLUS, 1, 4, 4, 4, 4, d, beta, threshold, 0); }
export function elu_f32(d: usize, alpha: f64): void { ew(ELU, 1, 4, 4, 4, 4, d, alpha, 0, 0); }
export function leaky_relu_f32(d: usize, alpha: f64): void { ew(LEAKY, 1, 4, 4, 4, 4, d, alpha, 0, 0); }
/** lo/hi are -inf/+inf for a one-sided clamp. */
export function clamp_f32(d: usize, lo: f64, hi: f64): void { ew(CLAMP, 1, 4, 4, 4, 4, d, lo, hi, 0); }
export function neg_i32(d: usize): void { ew(INEG, 1, 4, 4, 4, 4, d, 0, 0, 0); }
export function abs_i32(d: usize): void { ew(IABS, 1, 4, 4, 4, 4, d, 0, 0, 0); }
export function sign_i32(d: usize): void { ew(ISIGN, 1, 4, 4, 4, 4, d, 0, 0, 0); }
/** lo/hi must be int32 values (the host clamps them into range). */
export function clamp_i32(d: usize, lo: f64, hi: f64): void { ew(ICLAMP, 1, 4, 4, 4, 4, d, lo, hi, 0); }
export function logical_not_bool(d: usize): void { ew(NOT, 1, 1, 1, 1, 1, d, 0, 0, 0); }
/** x rounded to the nearest float16 value (ties to even), as f32; see elementwise.ts vroundF16. */
export function round_f16_f32(d: usize): void { ew(ROUND_F16, 1, 4, 4, 4, 4, d, 0, 0, 0); }
/** x rounded to the nearest bfloat16 value (ties to even), as f32. */
export function round_bf16_f32(d: usize): void { ew(ROUND_BF16, 1, 4, 4, 4, 4, d, 0, 0, 0); }
