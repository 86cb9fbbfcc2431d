// Config files and flags: a partial JSON file fills in from its preset, anything unknown or of the
// wrong type is refused by name, and flags that reshape the game cannot change a resumed run.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { resolveConfig } from '../../src/cli/train';
import { configFromJson, presetConfig } from '../../src/train/config';

const dir = mkdtempSync(join(tmpdir(), 'gan-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

test('a partial config file takes the fields it leaves out from the preset it names', () => {
  const path = file('partial.json', JSON.stringify({ preset: 'toy-2d-ring', batch: 64, optimizer: { generatorLrScale: 0.25 } }));
  const config = resolveConfig({ config: path, seed: 9 });
  const preset = presetConfig('toy-2d-ring');
  assert.equal(config.batch, 64);
  assert.equal(config.optimizer.generatorLrScale, 0.25);
  assert.equal(config.optimizer.lr, preset.optimizer.lr, 'untouched nested fields keep the preset value');
  assert.deepEqual(config.generator, preset.generator);
  assert.equal(config.seed, 9, 'flags apply on top of the file');
});

test("a run's config.json is a complete config that resolves to itself", () => {
  const preset = presetConfig('paper-mnist');
  assert.deepEqual(resolveConfig({ config: file('whole.json', JSON.stringify(preset)) }), preset);
});

test('config files and flags that are wrong are refused with the file and the field', () => {
  const refused = (name: string, text: string, message: RegExp) => assert.throws(() => resolveConfig({ config: file(name, text) }), (err: Error) => err.name === 'ConfigError' && message.test(err.message));
  refused('unknown.json', '{"optimizer": {"learning_rate": 0.1}}', /unknown\.json: unknown config field 'optimizer\.learning_rate'/);
  refused('type.json', '{"batch": "100"}', /type\.json: config field 'batch' must be a number, got "100"/);
  refused('range.json', '{"optimizer": {"generatorLrScale": -1}}', /range\.json: config field 'optimizer\.generatorLrScale': must be positive/);
  const layers = (inputMap: string) => `{"discriminator": {"layers": [{"units": 8, "pieces": 2, "activation": "maxout", "inputMap": ${inputMap}}, {"units": 1, "pieces": 1, "activation": "identity"}]}}`;
  refused('map.json', layers('{"scale": 0, "shift": -1}'), /map\.json: config field 'discriminator\.layers\[0\]\.inputMap\.scale': must be finite and not 0, got 0/);
  assert.deepEqual(resolveConfig({ config: file('centred.json', layers('{"scale": 2, "shift": -1}')) }).discriminator.layers[0].inputMap, { scale: 2, shift: -1 });
  refused('preset.json', '{"preset": "nope"}', /preset\.json: config field 'preset' must name a preset/);
  refused('array.json', '[1, 2]', /array\.json: a config is a JSON object/);
  refused('broken.json', '{"batch": ', /broken\.json: not JSON/);
  assert.throws(() => resolveConfig({ config: join(dir, 'missing.json') }), /missing\.json: cannot read the config file \(ENOENT\)/);
  assert.throws(() => resolveConfig({ config: file('both.json', '{}'), preset: 'toy-1d' }), /cannot be combined with --preset/);
  assert.throws(() => resolveConfig({ gLrScale: 2 }, presetConfig('toy-1d')), /--g-lr-scale cannot change when resuming/);
  assert.equal(resolveConfig({ realTarget: 0.9 }).realTarget, 0.9);
  assert.throws(() => resolveConfig({ realTarget: 1.5 }), /config field 'realTarget': must be in \(0, 1\], got 1.5/);
});

test('--ema-decay on --resume begins an average at the checkpoint\'s iteration when it keeps none, and is refused where it would change one or mean nothing', () => {
  const withoutAverage = presetConfig('paper-mnist');
  const begun = resolveConfig({ emaDecay: 0.999 }, withoutAverage, 50_250);
  assert.equal(begun.emaDecay, 0.999);
  assert.equal(begun.emaStart, 50_250);
  assert.deepEqual({ ...begun, emaDecay: 0, emaStart: 0 }, withoutAverage, 'nothing else changes');
  assert.equal(resolveConfig({}, withoutAverage, 50_250).emaStart, 0, 'no flag, no average');
  assert.throws(() => resolveConfig({ emaDecay: 0.99 }, presetConfig('small-mnist'), 4500), /--ema-decay cannot change when resuming: the checkpoint already keeps an average of G with decay 0.9993/);
  assert.throws(() => resolveConfig({ emaDecay: 0 }, withoutAverage, 100), /--ema-decay 0 asks for no average, and the checkpoint keeps none/);
  assert.throws(() => resolveConfig({ emaDecay: 1 }, withoutAverage, 100), /config field 'emaDecay': must be in \[0, 1\)/);
  assert.equal(presetConfig('small-mnist').emaStart, 0, 'a run that averages from the start');
});

test('a config from JSON must be an object of known fields', () => {
  assert.throws(() => configFromJson(null, 'here'), /here: a config is a JSON object/);
  assert.throws(() => configFromJson({ noise: 3 }, 'here'), /here: config field 'noise' must be an object/);
  assert.equal(configFromJson({}, 'here').preset, 'small-mnist', 'no preset: the default');
});

test('--loss least-squares (LSGAN) sets gLoss for both players; a config file may name it; an unknown loss is refused by name; --help describes the choice', () => {
  assert.equal(resolveConfig({ loss: 'least-squares' }).gLoss, 'least-squares');
  assert.equal(resolveConfig({ config: file('ls.json', '{"preset": "toy-2d-ring", "gLoss": "least-squares"}') }).gLoss, 'least-squares');
  assert.equal(resolveConfig({ config: file('no-loss.json', '{"preset": "toy-2d-ring"}') }).gLoss, 'non-saturating', 'a config without the field is the paper\'s game');
  assert.throws(() => resolveConfig({ config: file('hinge.json', '{"gLoss": "hinge"}') }), /hinge\.json: config field 'gLoss': unknown loss 'hinge' \(non-saturating, minimax, least-squares\)/);
  assert.throws(() => resolveConfig({ loss: 'least-squares' }, presetConfig('toy-1d')), /--loss cannot change when resuming/);
  const gan = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/gan.ts', ...args], { cwd: new URL('../..', import.meta.url).pathname, encoding: 'utf8' });
  const help = gan('train', '--help').stdout.replace(/\s+/g, ' ');
  assert.match(help, /--loss <loss> the game: 'non-saturating' .*'least-squares' \(LSGAN: both players least squares on D's raw output, no sigmoid.*\(choices: "non-saturating", "minimax", "least-squares"\)/);
  const wrong = gan('train', '--loss', 'hinge');
  assert.notEqual(wrong.status, 0);
  assert.match(wrong.stderr, /argument 'hinge' is invalid\. Allowed choices are non-saturating, minimax, least-squares/);
});
