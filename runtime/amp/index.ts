/**
 * @module amp — automatic mixed precision: `autocast` and `GradScaler`, as torch.amp.
 * @example
 * import { amp } from 'lightning-ts';
 * const scaler = new amp.GradScaler();
 */
export { autocast, autocastDType, castTo16, type AutocastDType, type AutocastOptions } from './autocast.ts';
export { GradScaler, GradScalerError, type GradScalerOptions, type GradScalerStateDict } from './grad-scaler.ts';
