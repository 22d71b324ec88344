/**
 * @module lightning/loggers — TensorBoard and CSV loggers with Lightning's layout.
 */
export { CSVLogger, CsvExperimentWriter, type CSVLoggerOptions } from './csv.ts';
export { EventFileWriter, hostIdentity, type EventFileWriterOptions } from './event-file-writer.ts';
export {
  LoggerError,
  addPrefix,
  checkVersion,
  flattenParams,
  joinPath,
  nextVersion,
  pyStr,
  sanitizeParams,
  versionFolder,
  type HParams,
  type Logger,
  type LoggerStatus,
} from './logger.ts';
export { pyFloatRepr } from './py-format.ts';
export { SummaryWriter, type ImageArray, type ImageFormat } from './summary-writer.ts';
export { TensorBoardLogger, type TensorBoardLoggerOptions } from './tensorboard.ts';
export { toYaml } from './yaml.ts';
