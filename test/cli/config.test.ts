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
  const path = file(
    'partial.json',
    JSON.stringify({ preset: 'toy-2d-ring', batch: 64, optimizer: { generatorLrScale: 0.25 } }),
  );
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

test('config files and flags that are wrong are refused with the file and the field (or the flag)', () => {
  const refused = (name: string, text: string, message: RegExp) =>
    assert.throws(
      () => resolveConfig({ config: file(name, text) }),
      (err: Error) => err.name === 'ConfigError' && message.test(err.message),
    );
  refused(
    'unknown.json',
    '{"optimizer": {"learning_rate": 0.1}}',
    /unknown\.json: unknown config field 'optimizer\.learning_rate'/,
  );
  refused('type.json', '{"batch": "100"}', /type\.json: config field 'batch' must be a number, got "100"/);
  refused(
    'range.json',
    '{"optimizer": {"generatorLrScale": -1}}',
    /range\.json: config field 'optimizer\.generatorLrScale': must be positive/,
  );
  const layers = (inputMap: string) =>
    `{"discriminator": {"layers": [{"units": 8, "pieces": 2, "activation": "maxout", "inputMap": ${inputMap}}, {"units": 1, "pieces": 1, "activation": "identity"}]}}`;
  refused(
    'map.json',
    layers('{"scale": 0, "shift": -1}'),
    /map\.json: config field 'discriminator\.layers\[0\]\.inputMap\.scale': must be finite and not 0, got 0/,
  );
  assert.deepEqual(
    resolveConfig({ config: file('centred.json', layers('{"scale": 2, "shift": -1}')) }).discriminator.layers[0]
      .inputMap,
    { scale: 2, shift: -1 },
  );
  refused('preset.json', '{"preset": "nope"}', /preset\.json: config field 'preset' must name a preset/);
  refused('array.json', '[1, 2]', /array\.json: a config is a JSON object/);
  refused('broken.json', '{"batch": ', /broken\.json: not JSON/);
  assert.throws(
    () => resolveConfig({ config: join(dir, 'missing.json') }),
    /missing\.json: cannot read the config file \(ENOENT\)/,
  );
  assert.throws(
    () => resolveConfig({ config: file('both.json', '{}'), preset: 'toy-1d' }),
    /cannot be combined with --preset/,
  );
  assert.throws(
    () => resolveConfig({ gLrScale: 2 }, presetConfig('toy-1d')),
    /--g-lr-scale cannot change when resuming/,
  );
  assert.equal(resolveConfig({ realTarget: 0.9 }).realTarget, 0.9);
  assert.throws(() => resolveConfig({ realTarget: 1.5 }), /^ConfigError: --real-target 1\.5: must be in \(0, 1\]\.$/);
});

test('a value out of range that a flag set is refused naming the flag as typed, not the config field it sets; the same field from a file keeps its name', () => {
  const refused = (flags: Parameters<typeof resolveConfig>[0], message: RegExp) =>
    assert.throws(
      () => resolveConfig(flags),
      (err: Error) => err.name === 'ConfigError' && message.test(err.message) && !err.message.includes('config field'),
    );
  refused({ format: 'images', data: dir, size: 100000 }, /^--size 100000: must be an integer from 1 to 1024\.$/);
  refused({ seed: 2 ** 32 }, /^--seed 4294967296: must be an integer in \[0, 2\^32\)\.$/);
  refused(
    { preset: 'paper-mnist', k: 2, form: 'simultaneous' },
    /^--k 2: the simultaneous form updates D and G from one pass, so k must be 1 \(got 2\); use --form alternating\.$/,
  );
  refused(
    { preset: 'paper-mnist', lr: 1e-7 },
    /^--lr 1e-7: must be at least optimizer\.lrFloor \(0\.000001\), the floor the learning rate decays to\.$/,
  );
  refused(
    { format: 'images' },
    /^--format images: data 'images' is read from a directory of its files: give --data DIR\.$/,
  );
  refused(
    { config: file('k3.json', '{"preset": "toy-1d", "k": 3}'), form: 'simultaneous' },
    /^--form simultaneous: the simultaneous form .* so k must be 1 \(got 3\)/,
  );
  // Not set by a flag: the file and the field, as before.
  assert.throws(
    () => resolveConfig({ config: file('seed.json', `{"seed": ${2 ** 32}}`), iters: 5 }),
    /seed\.json: config field 'seed': must be an integer in \[0, 2\^32\), got 4294967296/,
  );
  assert.throws(
    () =>
      resolveConfig({
        config: file(
          'side.json',
          '{"data": "images", "dataDir": "x", "image": {"channels": 3, "height": 2000, "width": 2000}}',
        ),
        seed: 3,
      }),
    /side\.json: config field 'image\.height': must be an integer from 1 to 1024, got 2000/,
  );
});

test('--conditional on a toy is refused by name, saying which data can be conditional; on MNIST it takes its 10 classes and on IDX sets and folders the data says (fitToData)', () => {
  for (const preset of ['toy-1d', 'toy-2d-ring', 'toy-2d-grid']) {
    assert.throws(
      () => resolveConfig({ preset, conditional: true }),
      (err: Error) =>
        err.name === 'ConfigError' &&
        err.message ===
          `--conditional: preset ${preset} trains on the toy '${preset}', which has no classes to condition on; a conditional GAN needs labelled data: MNIST, Fashion-MNIST or CIFAR-10 (--format mnist, fashion-mnist, cifar10), an IDX set with labels (--format idx) or a folder of class folders (--format images).`,
    );
  }
  assert.throws(
    () => resolveConfig({ config: file('toy.json', '{"preset": "toy-2d-ring"}'), conditional: true }),
    /^ConfigError: --conditional: preset toy-2d-ring trains on the toy/,
  );
  assert.equal(resolveConfig({ conditional: true }).classes, 10);
  assert.equal(
    resolveConfig({ format: 'images', data: dir, conditional: true }).classes,
    0,
    'the folder says how many once read',
  );
});

test('a bad flag is one line naming it and what is allowed, then where the help is; nothing more', () => {
  const gan = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/gan.ts', ...args], {
      cwd: new URL('../..', import.meta.url).pathname,
      encoding: 'utf8',
    });
  const cases: [string[], string][] = [
    [['train', '--size', '0'], 'gan: --size 0: must be an integer from 1 to 1024; see `gan train --help`.'],
    [['train', '--size', '100000'], 'gan: --size 100000: must be an integer from 1 to 1024; see `gan train --help`.'],
    [['train', '--k', '0'], 'gan: --k 0: must be an integer >= 1; see `gan train --help`.'],
    [['train', '--seed', '-1'], 'gan: --seed -1: must be an integer from 0 to 4294967295; see `gan train --help`.'],
    [['train', '--ema-decay', '1'], 'gan: --ema-decay 1: must be a number in [0, 1); see `gan train --help`.'],
    [['train', '--lr', 'fast'], 'gan: --lr fast: must be a positive number; see `gan train --help`.'],
    [
      ['train', '--preset', 'toy'],
      'gan: --preset toy: must be one of paper-mnist, small-mnist, fashion-small, cifar10-fc, cifar10-small, cmnist-small, emoji-small, cemoji-small, toy-1d, toy-2d-ring, toy-2d-grid; see `gan train --help`.',
    ],
    [['train', '--bogus'], "gan: unknown option '--bogus'; see `gan train --help`."],
    [['train', '--iters'], 'gan: --iters needs a value; see `gan train --help`.'],
    [
      ['eval', '--parzen-samples', 'model'],
      'gan: --parzen-samples model: must be one of generator, train, noise; see `gan eval --help`.',
    ],
    [['report'], "gan: missing required argument 'run_dir'; see `gan report --help`."],
    [
      ['evaluate'],
      "gan: unknown command 'evaluate' (commands: train, eval, train-encoder, report, export, info); see `gan --help`.",
    ],
  ];
  for (const [args, line] of cases) {
    const run = gan(...args);
    assert.equal(run.status, 1, args.join(' '));
    assert.equal(run.stderr, `${line}\n`, args.join(' '));
    assert.equal(run.stdout, '', args.join(' '));
  }
  const help = gan('train', '--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage: gan train \[options\]/);
});

test("--ema-decay on --resume begins an average at the checkpoint's iteration when it keeps none, and is refused where it would change one or mean nothing", () => {
  const withoutAverage = presetConfig('paper-mnist');
  const begun = resolveConfig({ emaDecay: 0.999 }, withoutAverage, 50_250);
  assert.equal(begun.emaDecay, 0.999);
  assert.equal(begun.emaStart, 50_250);
  assert.deepEqual({ ...begun, emaDecay: 0, emaStart: 0 }, withoutAverage, 'nothing else changes');
  assert.equal(resolveConfig({}, withoutAverage, 50_250).emaStart, 0, 'no flag, no average');
  assert.throws(
    () => resolveConfig({ emaDecay: 0.99 }, presetConfig('small-mnist'), 4500),
    /--ema-decay cannot change when resuming: the checkpoint already keeps an average of G with decay 0.9993/,
  );
  assert.throws(
    () => resolveConfig({ emaDecay: 0 }, withoutAverage, 100),
    /--ema-decay 0 asks for no average, and the checkpoint keeps none/,
  );
  assert.throws(
    () => resolveConfig({ emaDecay: 1 }, withoutAverage, 100),
    /^ConfigError: --ema-decay 1: must be in \[0, 1\) \(0: no average\)\.$/,
  );
  assert.equal(presetConfig('small-mnist').emaStart, 0, 'a run that averages from the start');
});

test('a config from JSON must be an object of known fields', () => {
  assert.throws(() => configFromJson(null, 'here'), /here: a config is a JSON object/);
  assert.throws(() => configFromJson({ noise: 3 }, 'here'), /here: config field 'noise' must be an object/);
  assert.equal(configFromJson({}, 'here').preset, 'small-mnist', 'no preset: the default');
});

test('--loss least-squares (LSGAN) sets gLoss for both players; a config file may name it; an unknown loss is refused by name; --help describes the choice', () => {
  assert.equal(resolveConfig({ loss: 'least-squares' }).gLoss, 'least-squares');
  assert.equal(
    resolveConfig({ config: file('ls.json', '{"preset": "toy-2d-ring", "gLoss": "least-squares"}') }).gLoss,
    'least-squares',
  );
  assert.equal(
    resolveConfig({ config: file('no-loss.json', '{"preset": "toy-2d-ring"}') }).gLoss,
    'non-saturating',
    "a config without the field is the paper's game",
  );
  assert.throws(
    () => resolveConfig({ config: file('hinge.json', '{"gLoss": "hinge"}') }),
    /hinge\.json: config field 'gLoss': unknown loss 'hinge' \(non-saturating, minimax, least-squares\)/,
  );
  assert.throws(
    () => resolveConfig({ loss: 'least-squares' }, presetConfig('toy-1d')),
    /--loss cannot change when resuming/,
  );
  const gan = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/gan.ts', ...args], {
      cwd: new URL('../..', import.meta.url).pathname,
      encoding: 'utf8',
    });
  const help = gan('train', '--help').stdout.replace(/\s+/g, ' ');
  assert.match(
    help,
    /--loss <loss> the game: 'non-saturating' .*'least-squares' \(LSGAN: both players least squares on D's raw output, no sigmoid.*\(choices: "non-saturating", "minimax", "least-squares"\)/,
  );
  const wrong = gan('train', '--loss', 'hinge');
  assert.notEqual(wrong.status, 0);
  assert.equal(
    wrong.stderr,
    'gan: --loss hinge: must be one of non-saturating, minimax, least-squares; see `gan train --help`.\n',
  );
});
