/**
 * @module activation-backward — fused activation gradients:
 * `unary_backward_<fn>_f32(desc, alpha, beta, threshold)`, inputs [x, gradOut],
 * out = gradOut * f'(x) with torch's derivative formulas.
 */
import {
  ew, BW_RELU, BW_SIGMOID, BW_TANH, BW_GELU, BW_GELU_TANH, BW_SILU, BW_SOFTPLUS, BW_ELU, BW_LEAKY,
} from './elementwise';

export function unary_backward_relu_f32(d: usize, alpha: f64, beta: f64, threshold: f64): void { ew(BW_RELU, 2, 4, 4, 4, 4, d, alpha, beta, threshold); }
export function unary_backward_sigmoid_f32(d: usize, alpha: f64, beta: f64, threshold: f64): void { ew(BW_SIGMOID, 2, 4, 4, 4, 4, d, alpha, beta, threshold); }
export function unary_backward_tanh_f32(d: usize, alpha: f64, beta: f64, threshold: f64): void { ew(BW_TANH, 2, 4, 4, 4, 4, d, alpha, beta, threshold); }
export function unary_backward_gelu_f32(d: usize, alpha: f64, beta: f64, threshold: f64): void { ew(BW_GELU, 2, 4, 4, 4, 4, d, alpha, beta, threshold); }
export function unary_backward_gelu_tanh_f32(d: usize, alpha: f64, beta: f64, threshold: f64): void { ew(BW_GELU_TANH, 2, 4, 4, 4, 4, d, alpha, beta, threshold); }
export function unary_backward_silu_f32(d: usize, alpha: f64, beta: f64, threshold: f64): void { ew(BW_SILU, 2, 4, 4, 4, 4, d, alpha, beta, threshold); }
/** softplus takes (beta, threshold) in the first two parameter slots. */
export function unary_backward_softplus_f32(d: usize, beta: f64, threshold: f64, unused: f64): void { ew(BW_SOFTPLUS, 2, 4, 4, 4, 4, d, beta, threshold, unused); }
export function unary_backward_elu_f32(d: usize, alpha: f64, beta: f64, threshold: f64): void { ew(BW_ELU, 2, 4, 4, 4, 4, d, alpha, beta, threshold); }
export function unary_backward_leaky_relu_f32(d: usize, alpha: f64, beta: f64, threshold: f64): void { ew(BW_LEAKY, 2, 4, 4, 4, 4, d, alpha, beta, threshold); }
