// IDX files (the MNIST format): a big-endian header (magic number, then one u32 per dimension)
// followed by unsigned bytes. Every inconsistency is an error that names the file.

export interface IdxTensor {
  /** Dimensions from the header: (count) for labels, (count, rows, cols) for images. */
  shape: number[];
  data: Uint8Array;
}

export class DataFileError extends Error {
  override name = 'DataFileError';
}

const UNSIGNED_BYTE = 0x08;

/** Parses an IDX file of unsigned bytes with `dimensions` dimensions (3 for images, 1 for labels). */
export function parseIdx(bytes: Uint8Array, file: string, dimensions: number): IdxTensor {
  const headerBytes = 4 + 4 * dimensions;
  if (bytes.length < 4)
    throw new DataFileError(
      `${file}: ${bytes.length} bytes is too short for an IDX file; the file is truncated or not IDX.`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  const expectedMagic = (UNSIGNED_BYTE << 8) | dimensions;
  if (magic !== expectedMagic) {
    throw new DataFileError(
      `${file}: wrong magic number 0x${magic.toString(16).padStart(8, '0')}, expected 0x${expectedMagic.toString(16).padStart(8, '0')} (unsigned bytes, ${dimensions} dimensions). ` +
        (magic >>> 16 === 0x1f8b ? 'The file is gzip-compressed: gunzip it first.' : 'Is this the right file?'),
    );
  }
  if (bytes.length < headerBytes) {
    throw new DataFileError(
      `${file}: ${bytes.length} bytes is too short for an IDX header of ${dimensions} dimensions (${headerBytes} bytes); the file is truncated.`,
    );
  }
  const shape: number[] = [];
  for (let d = 0; d < dimensions; d++) shape.push(view.getUint32(4 + 4 * d));
  const elements = shape.reduce((a, b) => a * b, 1);
  if (shape.some((n) => n === 0))
    throw new DataFileError(`${file}: the header declares an empty shape ${shape.join(' x ')}.`);
  const expectedLength = headerBytes + elements;
  if (bytes.length !== expectedLength) {
    const what = bytes.length < expectedLength ? 'truncated' : 'longer than its header says';
    throw new DataFileError(
      `${file}: the header declares ${shape.join(' x ')} = ${elements} bytes of data, so the file should be ${expectedLength} bytes, but it is ${bytes.length} (${what}).`,
    );
  }
  return { shape, data: bytes.subarray(headerBytes) };
}
