// Mutated IDX files and checkpoints: whatever the damage, the parsers answer with their own clear
// error (or, when the damage happens to leave a valid file, a result), never another exception, a
// hang or an allocation sized by a corrupt number. FUZZ_CASES=N runs N mutants of each (default 2000).
import test from 'node:test';
import assert from 'node:assert/strict';
import { parseIdx, DataFileError } from '../../src/data/idx';
import { CheckpointError, decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/io/checkpoint';
import { ConfigError } from '../../src/train/config';
import { networkSpecs } from '../../src/train/session';
import { parameterLayout } from '../../src/nn/layout';
import { seededRandom } from '../helpers';
import { tinyToyConfig } from '../train/fixtures';

const CASES = Number(process.env.FUZZ_CASES ?? 2000);

type Mutation = (bytes: Uint8Array, random: () => number) => Uint8Array;
const at = (random: () => number, n: number) => Math.floor(random() * n);

/** Damage as files suffer it: flipped bits, cut tails, junk appended or written over, digits changed inside a text header. */
function mutations(textRegion: (bytes: Uint8Array) => [number, number]): Mutation[] {
  return [
    (b, r) => {
      const out = b.slice();
      for (let i = 0, n = 1 + at(r, 8); i < n; i++) out[at(r, out.length)] ^= 1 << at(r, 8);
      return out;
    },
    (b, r) => b.slice(0, at(r, b.length)),
    (b, r) => {
      const out = new Uint8Array(b.length + 1 + at(r, 64));
      out.set(b);
      for (let i = b.length; i < out.length; i++) out[i] = at(r, 256);
      return out;
    },
    (b, r) => {
      const out = b.slice();
      const start = at(r, out.length);
      for (let i = start, end = Math.min(out.length, start + 1 + at(r, 16)); i < end; i++) out[i] = at(r, 256);
      return out;
    },
    (b, r) => {
      const out = b.slice();
      const [lo, hi] = textRegion(out);
      const digits: number[] = [];
      for (let i = lo; i < hi; i++) if (out[i] >= 0x30 && out[i] <= 0x39) digits.push(i);
      for (let i = 0, n = 1 + at(r, 3); i < n && digits.length > 0; i++)
        out[digits[at(r, digits.length)]] = 0x30 + at(r, 10);
      return out;
    },
    (b, r) => {
      // The header's size fields: IDX's big-endian dimensions or safetensors' length word.
      const out = b.slice();
      const [lo] = textRegion(out);
      const field = at(r, Math.max(1, Math.min(lo, 16)));
      out[field] = at(r, 256);
      return out;
    },
  ];
}

function fuzz(
  name: string,
  good: Uint8Array,
  parse: (bytes: Uint8Array) => unknown,
  expected: (err: unknown) => boolean,
  textRegion: (bytes: Uint8Array) => [number, number],
) {
  const random = seededRandom(2024);
  const mutators = mutations(textRegion);
  const outcomes = { parsed: 0, refused: 0 };
  for (let i = 0; i < CASES; i++) {
    const mutant = mutators[i % mutators.length](good, random);
    try {
      parse(mutant);
      outcomes.parsed++;
    } catch (err) {
      if (!expected(err))
        assert.fail(
          `${name} mutant ${i} (mutation ${i % mutators.length}) threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
        );
      assert.match((err as Error).message, /^mutant\.\w+[: ]/, 'the message names the file');
      outcomes.refused++;
    }
  }
  assert.ok(outcomes.refused > CASES / 2, `most mutants are refused (${JSON.stringify(outcomes)})`);
  return outcomes;
}

test(`IDX: ${CASES} mutated image files get DataFileError or parse`, () => {
  const images = new Uint8Array(16 + 7 * 28 * 28);
  const view = new DataView(images.buffer);
  view.setUint32(0, 0x0803);
  [7, 28, 28].forEach((d, i) => view.setUint32(4 + 4 * i, d));
  const random = seededRandom(3);
  for (let i = 16; i < images.length; i++) images[i] = random() < 0.8 ? 0 : at(random, 256);
  fuzz(
    'IDX',
    images,
    (bytes) => parseIdx(bytes, 'mutant.idx', 3),
    (err) => err instanceof DataFileError,
    () => [16, 16],
  );
});

test(`checkpoints: ${CASES} mutated files get CheckpointError or ConfigError, or decode to the model their config describes`, () => {
  const config = tinyToyConfig();
  const specs = networkSpecs(config);
  const random = seededRandom(4);
  const network = (spec: (typeof specs)['generator']) => {
    const n = parameterLayout(spec).totalFloats;
    return {
      params: Float32Array.from({ length: n }, () => random() - 0.5),
      optimizer: [new Float32Array(n), new Float32Array(n)],
    };
  };
  const state = {
    config,
    iteration: 12,
    generator: network(specs.generator),
    discriminator: network(specs.discriminator),
    stats: new Float32Array(8),
  };
  const good = encodeCheckpoint(state, specs);
  const headerEnd = (bytes: Uint8Array): [number, number] => {
    if (bytes.length < 8) return [0, 0];
    return [8, Math.min(bytes.length, 8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true)))];
  };
  const outcomes = fuzz(
    'checkpoint',
    good,
    (bytes) => {
      const decoded = decodeCheckpoint(bytes, 'mutant.safetensors', networkSpecs);
      const expectedFloats = parameterLayout(networkSpecs(decoded.config).generator).totalFloats;
      assert.equal(decoded.generator.params.length, expectedFloats, 'a decoded checkpoint matches its config');
    },
    (err) => err instanceof CheckpointError || err instanceof ConfigError,
    headerEnd,
  );
  assert.ok(outcomes.parsed > 0, 'some damage leaves a valid file (padding, metadata digits), and it decodes');
});

test('a checkpoint whose config claims a huge model is refused by shape, before anything of that size is allocated', () => {
  const config = tinyToyConfig();
  const specs = networkSpecs(config);
  const zeros = (spec: (typeof specs)['generator']) => ({
    params: new Float32Array(parameterLayout(spec).totalFloats),
    optimizer: [
      new Float32Array(parameterLayout(spec).totalFloats),
      new Float32Array(parameterLayout(spec).totalFloats),
    ],
  });
  const good = encodeCheckpoint(
    {
      config,
      iteration: 1,
      generator: zeros(specs.generator),
      discriminator: zeros(specs.discriminator),
      stats: new Float32Array(8),
    },
    specs,
  );
  const { tensors, metadata } = decodeSafetensors(good, 'good');
  const huge = JSON.parse(metadata.config);
  huge.generator.layers[0].units = 2_000_000_000;
  const { data_sha256: _, ...rest } = metadata;
  const bytes = encodeSafetensors(tensors, { ...rest, config: JSON.stringify(huge) });
  assert.throws(
    () => decodeCheckpoint(bytes, 'huge.safetensors', networkSpecs),
    /huge\.safetensors: tensor 'generator\.0\.weight' has shape 2x12, the config's model needs 2x2000000000/,
  );
});
