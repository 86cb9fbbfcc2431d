// The safetensors format (8-byte little-endian header length, a JSON header naming each tensor's
// dtype, shape and byte range, then the raw little-endian data), so checkpoints open in any tool
// that reads it. Parsing checks every claim of the header against the file before trusting it.

export type DType = 'F32' | 'U32' | 'F64';

export interface NamedTensor {
  dtype: DType;
  shape: number[];
  data: Float32Array | Uint32Array | Float64Array;
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

const BYTES: Record<DType, number> = { F32: 4, U32: 4, F64: 8 };
/** A header larger than this is refused before it is read: a corrupt length must not allocate gigabytes. */
export const MAX_HEADER_BYTES = 16 * 1024 * 1024;

export function encodeSafetensors(tensors: Record<string, NamedTensor>, metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const names = Object.keys(tensors);
  for (const name of names) {
    const t = tensors[name];
    const elements = t.shape.reduce((a, b) => a * b, 1);
    if (elements !== t.data.length)
      throw new CheckpointError(
        `tensor '${name}': shape ${t.shape.join('x')} has ${elements} elements, the data ${t.data.length}`,
      );
    const bytes = elements * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const name of names) {
    const { data } = tensors[name];
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    at += data.byteLength;
  }
  return out;
}

export interface Safetensors {
  tensors: Record<string, NamedTensor>;
  metadata: Record<string, string>;
}

export function decodeSafetensors(bytes: Uint8Array, file: string): Safetensors {
  const fail = (why: string): never => {
    throw new CheckpointError(`${file}: ${why}`);
  };
  if (bytes.length < 8) fail(`${bytes.length} bytes is too short for a safetensors file (8-byte header length first).`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES))
    fail(
      `the header claims ${headerLength} bytes, more than the ${MAX_HEADER_BYTES} accepted; this is not a safetensors file or it is corrupt.`,
    );
  if (Number(headerLength) > bytes.length - 8)
    fail(`the header claims ${headerLength} bytes but the file has only ${bytes.length - 8} after the length.`);
  const dataStart = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (err) {
    fail(`the header is not valid JSON (${(err as Error).message}).`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the header is not a JSON object.');
  const entries = header as Record<string, unknown>;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const rawMetadata = entries.__metadata__;
  if (rawMetadata !== undefined) {
    if (typeof rawMetadata !== 'object' || rawMetadata === null) fail('__metadata__ is not an object.');
    for (const [k, v] of Object.entries(rawMetadata as object)) {
      if (typeof v !== 'string') fail(`__metadata__.${k} is not a string.`);
      metadata[k] = v as string;
    }
  }
  const ranges: [number, number, string][] = [];
  const tensors: Record<string, NamedTensor> = {};
  for (const [name, value] of Object.entries(entries)) {
    if (name === '__metadata__') continue;
    const entry = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof entry !== 'object' || entry === null) fail(`tensor '${name}' is not an object.`);
    const dtype = entry.dtype as DType;
    if (!(typeof dtype === 'string' && dtype in BYTES))
      fail(
        `tensor '${name}' has dtype ${JSON.stringify(entry.dtype)}; only ${Object.keys(BYTES).join(', ')} are read.`,
      );
    const shape = entry.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      fail(`tensor '${name}' has an invalid shape ${JSON.stringify(shape)}.`);
    const offsets = entry.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`tensor '${name}' has invalid data_offsets ${JSON.stringify(offsets)}.`);
    }
    const [begin, end] = offsets as [number, number];
    const elements = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end < begin || end > dataLength)
      fail(`tensor '${name}': data_offsets [${begin}, ${end}] fall outside the ${dataLength} data bytes.`);
    if (end - begin !== elements * BYTES[dtype])
      fail(
        `tensor '${name}': shape ${JSON.stringify(shape)} of ${dtype} needs ${elements * BYTES[dtype]} bytes, data_offsets give ${end - begin}.`,
      );
    if ((dataStart + begin) % BYTES[dtype] !== 0)
      fail(`tensor '${name}' is not aligned to its ${BYTES[dtype]}-byte elements.`);
    ranges.push([begin, end, name]);
    // A copy of the tensor's bytes (Node's Buffer.slice would return a view of the whole file).
    const copy = new Uint8Array(bytes.subarray(dataStart + begin, dataStart + end)).buffer;
    const data =
      dtype === 'F32' ? new Float32Array(copy) : dtype === 'U32' ? new Uint32Array(copy) : new Float64Array(copy);
    tensors[name] = { dtype, shape: shape as number[], data };
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i][0] < ranges[i - 1][1]) fail(`tensors '${ranges[i - 1][2]}' and '${ranges[i][2]}' overlap.`);
  }
  return { tensors, metadata };
}
