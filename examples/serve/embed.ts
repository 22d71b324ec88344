/**
 * @module examples/serve/embed — the seed autoencoder's encoder behind one request format,
 * shared by the Node, Deno and workerd servers (README.md here defines the protocol).
 *
 * POST a JSON `{ "images": [[784 numbers], ...] }` (1 to 64 images, pixel values as floats), or
 * the raw little-endian float32 pixels with `Content-Type: application/octet-stream` and
 * `X-Shape: N,784`; the answer is `{ "embeddings": [[z0, z1, z2], ...] }`. A malformed request
 * gets a 4xx with `{ "error": { "type", "message" } }`, before any tensor is made.
 */
import { checkInput, loadWeights, nn, type Tensor, tensor, tidy } from 'lightning-ts/inference';

/** Pixels per image (28 × 28). */
export const FEATURES = 784;
/** The most images one request may hold. */
export const MAX_IMAGES = 64;
/** The largest body read, in bytes: 64 JSON images at up to ~20 characters a number. */
export const MAX_BODY_BYTES = 1 << 20;

/** The error types a request can get, with their HTTP status. */
export const ERROR_STATUS = {
  not_found: 404,
  method_not_allowed: 405,
  body_too_large: 413,
  too_many_images: 413,
  unsupported_media_type: 415,
  invalid_json: 400,
  invalid_request: 400,
  wrong_length: 400,
  not_numbers: 400,
} as const;

/** One of {@link ERROR_STATUS}'s keys. */
export type RequestErrorType = keyof typeof ERROR_STATUS;

/** A request the server refuses, with the 4xx it answers. */
export class RequestError extends Error {
  readonly type: RequestErrorType;
  constructor(type: RequestErrorType, message: string) {
    super(message);
    this.type = type;
  }
  get status(): number {
    return ERROR_STATUS[this.type];
  }
}

/** The encoder as the seed autoencoder defines it (`LitAutoEncoder.encoder`). */
export function createEncoder(): nn.Sequential {
  return new nn.Sequential(new nn.Linear(FEATURES, 64), new nn.ReLU(), new nn.Linear(64, 3));
}

/** The encoder with the weights of a seed-autoencoder checkpoint (its `encoder.*` keys). */
export async function loadEncoder(checkpoint: Uint8Array | ArrayBuffer): Promise<nn.Sequential> {
  const encoder = createEncoder();
  await loadWeights(encoder, checkpoint, { prefix: 'encoder.' });
  return encoder;
}

/** Parses a body into `count` images of {@link FEATURES} float32 pixels each. */
export function parseImages(
  body: Uint8Array,
  contentType: string | null,
  shape: string | null,
): { count: number; pixels: Float32Array } {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/octet-stream') return parseRaw(body, shape);
  if (type !== 'application/json') {
    throw new RequestError(
      'unsupported_media_type',
      `embed: unsupported Content-Type; expected application/json or application/octet-stream, got ${JSON.stringify(contentType ?? '')}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (error) {
    throw new RequestError(
      'invalid_json',
      `embed: the body is not JSON; expected { "images": [...] }, got ${String(error)}`,
    );
  }
  const images = (parsed as { images?: unknown } | null)?.images;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Array.isArray(images)) {
    throw new RequestError(
      'invalid_request',
      'embed: no images; expected an object { "images": [[784 numbers], ...] }',
    );
  }
  checkCount(images.length);
  const pixels = new Float32Array(images.length * FEATURES);
  images.forEach((image: unknown, i) => {
    if (!Array.isArray(image) || image.length !== FEATURES) {
      throw new RequestError(
        'wrong_length',
        `embed: images[${i}] has the wrong length; expected ${FEATURES} numbers, got ${Array.isArray(image) ? `${image.length}` : typeof image}`,
      );
    }
    for (let j = 0; j < FEATURES; j++) {
      const v: unknown = image[j];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new RequestError(
          'not_numbers',
          `embed: images[${i}][${j}] is not a finite number; got ${JSON.stringify(v)}`,
        );
      }
      pixels[i * FEATURES + j] = v;
    }
  });
  return { count: images.length, pixels };
}

function parseRaw(body: Uint8Array, shape: string | null): { count: number; pixels: Float32Array } {
  const m = /^\s*(\d{1,6})\s*,\s*(\d{1,6})\s*$/.exec(shape ?? '');
  if (m === null || Number(m[2]) !== FEATURES) {
    throw new RequestError(
      'invalid_request',
      `embed: bad X-Shape header; expected "N,${FEATURES}", got ${JSON.stringify(shape)}`,
    );
  }
  const count = Number(m[1]);
  checkCount(count);
  if (body.length !== count * FEATURES * 4) {
    throw new RequestError(
      'wrong_length',
      `embed: the body does not match X-Shape; expected ${count * FEATURES * 4} bytes (${count}×${FEATURES} float32), got ${body.length}`,
    );
  }
  const pixels = new Float32Array(count * FEATURES);
  new Uint8Array(pixels.buffer).set(body);
  if (!pixels.every(Number.isFinite))
    throw new RequestError('not_numbers', 'embed: the body holds NaN or infinite values');
  return { count, pixels };
}

function checkCount(count: number): void {
  if (count === 0) throw new RequestError('invalid_request', 'embed: no images; expected 1 or more, got 0');
  if (count > MAX_IMAGES) {
    throw new RequestError('too_many_images', `embed: too many images; expected at most ${MAX_IMAGES}, got ${count}`);
  }
}

/** The embeddings of `count` images: one `[z0, z1, z2]` per image. */
export async function embed(encoder: nn.Sequential, count: number, pixels: Float32Array): Promise<number[][]> {
  const z: Tensor = tidy(() =>
    encoder.forward(checkInput(tensor(pixels).view(count, FEATURES), { name: 'images', shape: [null, FEATURES] })),
  );
  try {
    const flat = await z.data();
    return Array.from({ length: count }, (_, i) => Array.from(flat.subarray(i * 3, i * 3 + 3), Number));
  } finally {
    z.dispose();
  }
}

/** What a server sends back: a status and a JSON body. */
export interface Answer {
  readonly status: number;
  readonly body: string;
}

/**
 * Answers one request. `readBody(limit)` reads at most `limit` bytes, throwing a `body_too_large`
 * RequestError beyond.
 */
export async function answer(
  encoder: nn.Sequential,
  request: {
    method: string;
    path: string;
    contentType: string | null;
    shape: string | null;
    readBody(limit: number): Promise<Uint8Array>;
  },
): Promise<Answer> {
  try {
    if (request.path !== '/embed')
      throw new RequestError('not_found', `embed: no such path; expected /embed, got ${request.path}`);
    if (request.method !== 'POST') {
      throw new RequestError('method_not_allowed', `embed: wrong method; expected POST, got ${request.method}`);
    }
    const { count, pixels } = parseImages(await request.readBody(MAX_BODY_BYTES), request.contentType, request.shape);
    return { status: 200, body: JSON.stringify({ embeddings: await embed(encoder, count, pixels) }) };
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    return { status: error.status, body: JSON.stringify({ error: { type: error.type, message: error.message } }) };
  }
}

/** Reads a web stream, refusing it past `limit` bytes. */
export async function readLimited(stream: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (stream !== null) {
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > limit) {
        await reader.cancel();
        throw new RequestError(
          'body_too_large',
          `embed: the body is too large; expected at most ${limit} bytes, got more`,
        );
      }
      chunks.push(value);
    }
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** A standard `fetch(request)` handler (Deno.serve, workerd, Cloudflare Workers, Bun). */
export async function handleFetch(encoder: nn.Sequential, request: Request): Promise<Response> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  const { status, body } = await answer(encoder, {
    method: request.method,
    path: new URL(request.url).pathname,
    contentType: request.headers.get('content-type'),
    shape: request.headers.get('x-shape'),
    readBody: (limit) => {
      if (declared > limit) {
        return Promise.reject(
          new RequestError(
            'body_too_large',
            `embed: the body is too large; expected at most ${limit} bytes, got ${declared}`,
          ),
        );
      }
      return readLimited(request.body, limit);
    },
  });
  return new Response(body, { status, headers: { 'content-type': 'application/json' } });
}
