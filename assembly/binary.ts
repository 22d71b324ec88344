/**
 * @module binary — elementwise functions of two inputs of one dtype, and `where`.
 * Comparisons write bool (one byte per element).
 */
import {
  ew, ADD, SUB, MUL, DIV, POW, MAX, MIN, EQ, NE, LT, LE, GT, GE,
  IADD, ISUB, IMUL, IPOW, IMAX, IMIN, IEQ, INE, ILT, ILE, IGT, IGE, WHERE,
} from './elementwise';

export function add_f32(d: usize): void { ew(ADD, 2, 4, 4, 4, 4, d, 0, 0, 0); }
export function sub_f32(d: usize): void { ew(SUB, 2, 4, 4, 4, 4, d, 0, 0, 0); }
export function mul_f32(d: usize): void { ew(MUL, 2, 4, 4, 4, 4, d, 0, 0, 0); }
export function div_f32(d: usize): void { ew(DIV, 2, 4, 4, 4, 4, d, 0, 0, 0); }
export function pow_f32(d: usize): void { ew(POW, 2, 4, 4, 4, 4, d, 0, 0, 0); }
export function maximum_f32(d: usize): void { ew(MAX, 2, 4, 4, 4, 4, d, 0, 0, 0); }
export function minimum_f32(d: usize): void { ew(MIN, 2, 4, 4, 4, 4, d, 0, 0, 0); }
export function eq_f32(d: usize): void { ew(EQ, 2, 1, 4, 4, 4, d, 0, 0, 0); }
export function ne_f32(d: usize): void { ew(NE, 2, 1, 4, 4, 4, d, 0, 0, 0); }
export function lt_f32(d: usize): void { ew(LT, 2, 1, 4, 4, 4, d, 0, 0, 0); }
export function le_f32(d: usize): void { ew(LE, 2, 1, 4, 4, 4, d, 0, 0, 0); }
export function gt_f32(d: usize): void { ew(GT, 2, 1, 4, 4, 4, d, 0, 0, 0); }
export function ge_f32(d: usize): void { ew(GE, 2, 1, 4, 4, 4, d, 0, 0, 0); }
export function add_i32(d: usize): void { ew(IADD, 2, 4, 4, 4, 4, d, 0, 0, 0); }
export function sub_i32(d: usize): void { ew(ISUB, 2, 4, 4, 4, 4, d, 0, 0, 0); }
export function mul_i32(d: usize): void { ew(IMUL, 2, 4, 4, 4, 4, d, 0, 0, 0); }
export function pow_i32(d: usize): void { ew(IPOW, 2, 4, 4, 4, 4, d, 0, 0, 0); }
export function maximum_i32(d: usize): void { ew(IMAX, 2, 4, 4, 4, 4, d, 0, 0, 0); }
export function minimum_i32(d: usize): void { ew(IMIN, 2, 4, 4, 4, 4, d, 0, 0, 0); }
export function eq_i32(d: usize): void { ew(IEQ, 2, 1, 4, 4, 4, d, 0, 0, 0); }
export function ne_i32(d: usize): void { ew(INE, 2, 1, 4, 4, 4, d, 0, 0, 0); }
export function lt_i32(d: usize): void { ew(ILT, 2, 1, 4, 4, 4, d, 0, 0, 0); }
export function le_i32(d: usize): void { ew(ILE, 2, 1, 4, 4, 4, d, 0, 0, 0); }
export function gt_i32(d: usize): void { ew(IGT, 2, 1, 4, 4, 4, d, 0, 0, 0); }
export function ge_i32(d: usize): void { ew(IGE, 2, 1, 4, 4, 4, d, 0, 0, 0); }
/** inputs: cond (bool), a, b; f32 and i32 share the 32-bit select. */
export function where_f32(d: usize): void { ew(WHERE, 3, 4, 1, 4, 4, d, 0, 0, 0); }
export function where_i32(d: usize): void { ew(WHERE, 3, 4, 1, 4, 4, d, 0, 0, 0); }
