// The file formats read from users: IDX (MNIST) and safetensors (checkpoints). Each inconsistency
// is an error naming the file and what is wrong.
import test from 'node:test';
import assert from 'node:assert/strict';
import { parseIdx, DataFileError } from '../../src/data/idx';
import { decodeSafetensors, encodeSafetensors, CheckpointError, MAX_HEADER_BYTES } from '../../src/io/safetensors';

function idx(magic: number, dims: number[], data: number[]): Uint8Array {
  const bytes = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, magic);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  bytes.set(data, 4 + 4 * dims.length);
  return bytes;
}

test('IDX: a good file parses; wrong magic, truncation, extra bytes and gzip are named', () => {
  const good = parseIdx(idx(0x0803, [2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]), 'images', 3);
  assert.deepEqual(good.shape, [2, 2, 2]);
  assert.deepEqual([...good.data], [1, 2, 3, 4, 5, 6, 7, 8]);
  const fails = (bytes: Uint8Array, dims: number, message: RegExp) =>
    assert.throws(
      () => parseIdx(bytes, 'f.idx', dims),
      (e: Error) => e instanceof DataFileError && message.test(e.message),
    );
  fails(idx(0x0801, [8], [1, 2, 3, 4, 5, 6, 7, 8]), 3, /^f\.idx: wrong magic number 0x00000801, expected 0x00000803/);
  fails(idx(0x0803, [2, 2, 2], [1, 2, 3]), 3, /^f\.idx: .*should be 24 bytes, but it is 19 \(truncated\)/);
  fails(idx(0x0801, [2], [1, 2, 3]), 1, /longer than its header says/);
  fails(new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]), 1, /gzip-compressed/);
  fails(new Uint8Array(3), 1, /too short for an IDX file/);
  fails(new Uint8Array([0, 0, 8, 3, 0, 0]), 3, /too short for an IDX header of 3 dimensions/);
  fails(idx(0x0803, [0, 28, 28], []), 3, /empty shape/);
});

test('safetensors: round trip, and every lie of a header is caught', () => {
  const tensors = {
    a: { dtype: 'F32' as const, shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
    b: { dtype: 'U32' as const, shape: [1], data: new Uint32Array([7]) },
  };
  const bytes = encodeSafetensors(tensors, { note: 'x' });
  const decoded = decodeSafetensors(bytes, 'ok.st');
  assert.deepEqual(decoded.tensors.a.data, tensors.a.data);
  assert.deepEqual(decoded.tensors.b.data, tensors.b.data);
  assert.equal(decoded.metadata.note, 'x');
  assert.equal((8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))) % 8, 0, 'data starts 8-byte aligned');
  // As read from disk: a Node Buffer, whose slice() is a view, inside a larger pooled ArrayBuffer.
  const pooled = Buffer.alloc(bytes.length + 40);
  pooled.set(bytes, 24);
  const fromDisk = decodeSafetensors(pooled.subarray(24, 24 + bytes.length), 'disk.st');
  assert.deepEqual(fromDisk.tensors.a.data, tensors.a.data);
  assert.equal(fromDisk.tensors.a.data.length, 6);

  const withHeader = (header: object, dataBytes = 24) => {
    const json = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + json.length + dataBytes);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    return out;
  };
  const fails = (file: Uint8Array, message: RegExp) =>
    assert.throws(
      () => decodeSafetensors(file, 'bad.st'),
      (e: Error) => e instanceof CheckpointError && /^bad\.st: /.test(e.message) && message.test(e.message),
    );
  fails(new Uint8Array(4), /too short/);
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES + 1), true);
  fails(huge, /more than the .* accepted/);
  const long = new Uint8Array(16);
  new DataView(long.buffer).setBigUint64(0, 100n, true);
  fails(long, /only 8 after the length/);
  fails(withHeader([1, 2] as unknown as object), /not a JSON object/);
  fails(withHeader({ a: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }), /dtype "F16"/);
  fails(withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 400] } }), /outside the 24 data bytes/);
  fails(withHeader({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }), /needs 12 bytes, data_offsets give 8/);
  fails(
    withHeader({
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
    }),
    /overlap/,
  );
  fails(withHeader({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 8] } }), /invalid shape/);
  const notJson = withHeader({});
  notJson[9] = 0x7b;
  notJson[8] = 0x7b;
  fails(notJson, /not valid JSON/);
});
