/**
 * @module lightning — LightningModule, Trainer, callbacks, checkpoints and loggers.
 */
export { LightningModule, isOverridden, type TrainingStepOutput } from './module.ts';
export { LightningDataModule, type Loader } from './datamodule.ts';
export { Trainer, type FitOptions, type EvalOptions } from './trainer.ts';
export type { CallbackHooks } from './hooks.ts';
export {
  resolveTrainerOptions,
  limitBatches,
  type TrainerOptions,
  type ResolvedTrainerOptions,
  type BatchLimit,
  type MaxTime,
} from './trainer-options.ts';
export {
  MisconfigurationError,
  NotAvailableYetError,
  CheckpointError,
  NonFiniteMetricError,
  ConcurrentRunError,
  DistributedError,
  WorkerStartError,
  InterruptedError,
} from './errors.ts';
export { DDPStrategy } from './strategies/ddp.ts';
export { ResultCollection, inferBatchSize, type LogOptions, type ReduceFx, type LogStage } from './results.ts';
export {
  normalizeOptimizers,
  clipGradNorm_,
  clipGradValue_,
  type OptimizersConfig,
  type OptimizerDict,
  type SchedulerLike,
  type LRSchedulerConfig,
  type LRSchedulerConfigInput,
} from './optimizers.ts';
export {
  LIGHTNING_VERSION,
  readCheckpoint,
  writeCheckpoint,
  type CheckpointDict,
  type LoadFromCheckpointOptions,
} from './checkpoint.ts';
export { newFitProgress, loopsStateDict, fitProgressFromState, type FitProgress } from './loops/progress.ts';
export * from './callbacks/index.ts';
export { seedEverything } from './seed.ts';
