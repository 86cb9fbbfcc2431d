// `gan train --browser`: the same run in headless Chromium's WebGPU (SwiftShader here) writes the
// same files as in Node, and learns the same thing: the two adapters round differently, so the
// metrics agree closely rather than bit for bit.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { decodeCheckpoint } from '../../src/io/checkpoint';
import { networkSpecs } from '../../src/train/session';

const root = new URL('../..', import.meta.url).pathname;

function train(out: string, ...extra: string[]) {
  const args = [
    '--import',
    'tsx',
    'src/cli/gan.ts',
    'train',
    '--preset',
    'toy-2d-ring',
    '--iters',
    '24',
    '--log-every',
    '12',
    '--sample-every',
    '12',
    '--seed',
    '3',
    '--out',
    out,
    ...extra,
  ];
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  return { ...result, seconds: (performance.now() - started) / 1000 };
}

const metrics = (dir: string) =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number>);

test('gan train --browser writes the same files as the Node run, with matching metrics', (t) => {
  const browserOut = mkdtempSync(join(tmpdir(), 'gan-browser-'));
  const nodeOut = mkdtempSync(join(tmpdir(), 'gan-node-'));
  const browser = train(browserOut, '--browser');
  assert.equal(browser.status, 0, browser.stderr);
  assert.match(browser.stdout, /^Training: preset toy-2d-ring on .*\(headless Chromium\)/m);
  assert.match(browser.stdout, /^iter 24\/24 d_loss .* js /m, 'the same plain progress lines');
  const node = train(nodeOut);
  assert.equal(node.status, 0, node.stderr);
  t.diagnostic(`browser run ${browser.seconds.toFixed(1)} s, Node run ${node.seconds.toFixed(1)} s`);

  assert.deepEqual(readdirSync(browserOut).sort(), readdirSync(nodeOut).sort());
  assert.deepEqual(readdirSync(browserOut).sort(), [
    'checkpoint.safetensors',
    'config.json',
    'metrics.jsonl',
    'samples-12.png',
    'samples-24.png',
  ]);
  assert.equal(
    readFileSync(join(browserOut, 'config.json'), 'utf8'),
    readFileSync(join(nodeOut, 'config.json'), 'utf8'),
  );

  const [inBrowser, inNode] = [metrics(browserOut), metrics(nodeOut)];
  assert.deepEqual(
    inBrowser.map((m) => Object.keys(m).sort()),
    inNode.map((m) => Object.keys(m).sort()),
  );
  for (let i = 0; i < inNode.length; i++) {
    for (const key of ['d_loss', 'g_loss', 'd_real', 'd_fake', 'js']) {
      assert.ok(
        Math.abs(inBrowser[i][key] - inNode[i][key]) < 0.02,
        `iteration ${inNode[i].iter} ${key}: browser ${inBrowser[i][key]}, Node ${inNode[i][key]}`,
      );
    }
    assert.equal(inBrowser[i].lr, inNode[i].lr);
  }
  for (const name of ['samples-12.png', 'samples-24.png']) {
    const [a, b] = [browserOut, nodeOut].map((dir) => PNG.sync.read(readFileSync(join(dir, name))));
    assert.deepEqual([a.width, a.height], [b.width, b.height], name);
  }
  const [fromBrowser, fromNode] = [browserOut, nodeOut].map((dir) =>
    decodeCheckpoint(readFileSync(join(dir, 'checkpoint.safetensors')), dir, networkSpecs),
  );
  assert.equal(fromBrowser.iteration, 24);
  const weights = (s: typeof fromNode) => s.generator.params;
  let worst = 0;
  for (let i = 0; i < weights(fromNode).length; i++)
    worst = Math.max(worst, Math.abs(weights(fromBrowser)[i] - weights(fromNode)[i]));
  assert.ok(worst < 1e-2, `G's weights after 24 iterations differ by at most ${worst}`);
});

test('gan train --browser reports a bad checkpoint by its file, like the Node run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gan-browser-bad-'));
  const resume = join(dir, 'nothing.safetensors');
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'src/cli/gan.ts', 'train', '--browser', '--resume', resume],
    { cwd: root, encoding: 'utf8' },
  );
  assert.equal(result.status, 1);
  assert.match(result.stderr, new RegExp(`gan: ${resume}: file not found`));
});
