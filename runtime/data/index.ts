/**
 * @module data — datasets, samplers, DataLoader, transforms and MNIST-style
 * readers (torch.utils.data and the parts of torchvision the seed needs).
 */
export { Dataset, IterableDataset, Subset, ConcatDataset, type BatchedDataset } from './dataset.ts';
export { TensorDataset, type TensorRows } from './tensor-dataset.ts';
export { randomSplit, type RandomSplitOptions } from './random-split.ts';
export {
  SequentialSampler,
  RandomSampler,
  SubsetRandomSampler,
  BatchSampler,
  type Sampler,
  type RandomSamplerOptions,
  type BatchSamplerOptions,
} from './sampler.ts';
export { DistributedSampler, type DistributedSamplerOptions } from './distributed-sampler.ts';
export { defaultCollate, type Collated } from './collate.ts';
export { DataLoader, type DataLoaderOptions, type DataSource } from './dataloader.ts';
export { RawImage } from './raw-image.ts';
export { ToTensor, Normalize, Compose, Lambda, type Transform, type NormalizeOptions } from './transforms.ts';
export {
  ImageClassificationDataset,
  type ImageArrays,
  type ImageDatasetOptions,
  type TransformLike,
} from './image-classification.ts';
export {
  MNIST,
  FashionMNIST,
  loadMnistArrays,
  MNIST_SPEC,
  FASHION_MNIST_SPEC,
  type MnistOptions,
  type MnistSpec,
} from './mnist.ts';
export { MnistDigits, type MnistPackage } from './mnist-digits.ts';
export { DatasetError } from './errors.ts';
export { md5 } from './md5.ts';
