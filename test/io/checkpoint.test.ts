// Checkpoints and G's moving average: stored beside G's weights under `<name>.ema`, read back
// exactly; a checkpoint from before the average existed still loads (its run kept none); a damaged
// average tensor is refused by name.
import test from 'node:test';
import assert from 'node:assert/strict';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/io/checkpoint';
import type { TrainingState } from '../../src/spec/state';
import { networkSpecs } from '../../src/train/session';
import { parameterLayout } from '../../src/nn/layout';
import type { TrainConfig } from '../../src/spec/config';
import { seededRandom } from '../helpers';
import { tinyToyConfig } from '../train/fixtures';

function stateOf(config: TrainConfig): TrainingState {
  const specs = networkSpecs(config);
  const random = seededRandom(9);
  // Random tensors, zero padding between them (as a decoded file has it).
  const floats = (spec: (typeof specs)['generator']) => {
    const layout = parameterLayout(spec);
    const flat = new Float32Array(layout.totalFloats);
    for (const t of layout.tensors) for (let i = 0; i < t.size; i++) flat[t.offset + i] = random() - 0.5;
    return flat;
  };
  const player = (spec: (typeof specs)['generator']) => ({
    params: floats(spec),
    optimizer: [floats(spec), floats(spec)],
  });
  const generator = { ...player(specs.generator), ...(config.emaDecay > 0 && { average: floats(specs.generator) }) };
  return { config, iteration: 7, generator, discriminator: player(specs.discriminator), stats: new Float32Array(8) };
}

/** The file re-encoded with its tensors and metadata changed (the digest dropped: it would no longer match). */
function rewritten(bytes: Uint8Array, change: (parts: ReturnType<typeof decodeSafetensors>) => void): Uint8Array {
  const parts = decodeSafetensors(bytes, 'file');
  change(parts);
  const { data_sha256: _, ...metadata } = parts.metadata;
  return encodeSafetensors(parts.tensors, metadata);
}

test("checkpoint: G's moving average is stored as generator.<layer>.<weight|bias>.ema and read back exactly", () => {
  const config = tinyToyConfig({ emaDecay: 0.999 });
  const state = stateOf(config);
  const bytes = encodeCheckpoint(state, networkSpecs(config));
  const names = Object.keys(decodeSafetensors(bytes, 'file').tensors);
  for (const t of parameterLayout(networkSpecs(config).generator).tensors)
    assert.ok(names.includes(`${t.name}.ema`), `${t.name}.ema is stored`);
  assert.ok(!names.some((n) => n.startsWith('discriminator') && n.endsWith('.ema')), 'D has no average');
  const decoded = decodeCheckpoint(bytes, 'run.safetensors', networkSpecs);
  assert.equal(decoded.config.emaDecay, 0.999);
  assert.deepEqual(decoded.generator.average, state.generator.average);
  assert.deepEqual(decoded.generator.params, state.generator.params);
});

test('checkpoint: a weights-only file keeps the weights and the average, drops the optimizer state and statistics', () => {
  const config = tinyToyConfig({ emaDecay: 0.99 });
  const state = stateOf(config);
  const full = encodeCheckpoint(state, networkSpecs(config));
  const weights = encodeCheckpoint(state, networkSpecs(config), { weightsOnly: true });
  const names = Object.keys(decodeSafetensors(weights, 'file').tensors);
  assert.ok(
    !names.some((n) => n.endsWith('.adam_m') || n.endsWith('.adam_v') || n === 'training.stats'),
    names.join(', '),
  );
  assert.ok(weights.length < 0.6 * full.length, `${weights.length} bytes against ${full.length}`);
  const decoded = decodeCheckpoint(weights, 'weights.safetensors', networkSpecs);
  assert.equal(decoded.weightsOnly, true);
  assert.deepEqual(decoded.generator.optimizer, []);
  assert.equal(decoded.stats.length, 0);
  assert.deepEqual(decoded.generator.params, state.generator.params);
  assert.deepEqual(decoded.generator.average, state.generator.average);
  assert.deepEqual(decoded.discriminator.params, state.discriminator.params);
  assert.equal(decodeCheckpoint(full, 'full.safetensors', networkSpecs).weightsOnly, undefined);
});

test('checkpoint: one written before the moving average existed loads, as a run that kept none', () => {
  const config = tinyToyConfig({ emaDecay: 0 });
  const old = rewritten(encodeCheckpoint(stateOf(config), networkSpecs(config)), ({ metadata }) => {
    const { emaDecay: _, ...before } = JSON.parse(metadata.config);
    metadata.config = JSON.stringify(before);
  });
  assert.ok(!decodeSafetensors(old, 'old').metadata.config.includes('emaDecay'), 'the config has no emaDecay field');
  const decoded = decodeCheckpoint(old, 'old.safetensors', networkSpecs);
  assert.equal(decoded.config.emaDecay, 0);
  assert.equal(decoded.generator.average, undefined);
});

test('checkpoint: a missing or misshapen average tensor is refused by its name', () => {
  const config = tinyToyConfig({ emaDecay: 0.99 });
  const good = encodeCheckpoint(stateOf(config), networkSpecs(config));
  const missing = rewritten(good, ({ tensors }) => void delete tensors['generator.1.bias.ema']);
  assert.throws(
    () => decodeCheckpoint(missing, 'run.safetensors', networkSpecs),
    /^CheckpointError: run\.safetensors: tensor 'generator\.1\.bias\.ema' is missing\.$/,
  );
  const misshapen = rewritten(good, ({ tensors }) => {
    const t = tensors['generator.0.weight.ema'];
    tensors['generator.0.weight.ema'] = { ...t, shape: [t.shape[1], t.shape[0]] };
  });
  assert.throws(
    () => decodeCheckpoint(misshapen, 'run.safetensors', networkSpecs),
    /run\.safetensors: tensor 'generator\.0\.weight\.ema' has shape 12x2, the config's model needs 2x12/,
  );
  const damaged = good.slice();
  damaged[damaged.length - 3] ^= 0xff;
  assert.throws(
    () => decodeCheckpoint(damaged, 'run.safetensors', networkSpecs),
    /run\.safetensors: the data's SHA-256 does not match/,
  );
});
