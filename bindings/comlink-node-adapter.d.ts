// comlink ships node-adapter.d.ts beside node-adapter.mjs, which NodeNext resolution does not
// pair with the .mjs file; this says the same thing under the path we import.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink';
  export interface NodeEndpoint {
    postMessage(message: unknown, transfer?: readonly unknown[]): void;
    on(type: string, listener: (value: unknown) => void): void;
    off(type: string, listener: (value: unknown) => void): void;
    start?: () => void;
  }
  // biome-ignore lint/style/noDefaultExport: comlink's module has a default export, and this declares it
  export default function nodeEndpoint(nep: NodeEndpoint): Endpoint;
}
