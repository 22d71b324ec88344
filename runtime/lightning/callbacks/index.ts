/**
 * @module lightning/callbacks — Callback and the callbacks Lightning ships.
 */
export { Callback, pyReprDict, type HookResult, type Stage } from './callback.ts';
export { ModelCheckpoint, formatCheckpointName, type ModelCheckpointOptions } from './model-checkpoint.ts';
export { EarlyStopping, type EarlyStoppingOptions } from './early-stopping.ts';
export { LearningRateMonitor, type LearningRateMonitorOptions } from './lr-monitor.ts';
export { ProgressBar, type ProgressBarOptions } from './progress-bar.ts';
export { ModelSummary, summarize, humanCount } from './model-summary.ts';
