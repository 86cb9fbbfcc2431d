// The package as a user gets it: `npm pack` (which builds dist/), the tarball installed into a new
// project in a temporary directory, and from there a toy trained in Node and a page of 40 lines,
// bundled by esbuild (not the repository's Vite), training and drawing in headless Chromium. Both
// import 'webgpu-gan' by name only, so they see the package's exports, not the repository's files.
// The ring's Jensen-Shannon divergence must fall over the run (measured with the preset's seed: in
// Node 0.69 -> 0.49 in 200 iterations, in the page 0.69 -> 0.54 in 60).
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { launchBrowser, serveSite } from '../src/cli/browser';
import { packagedMnistDir } from '../src/data/mnist-files-node';

const root = new URL('..', import.meta.url).pathname;
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const nodeScript = `
import { createGan, train, readSamples, toyDivergence, saveCheckpoint, loadCheckpoint, exportOnnx, destroySession, presets } from 'webgpu-gan';
const gan = await createGan({ preset: 'toy-2d-ring' });
const before = toyDivergence(gan.data, await readSamples(gan));
await train(gan, 200);
const after = toyDivergence(gan.data, await readSamples(gan));
const bytes = await saveCheckpoint(gan);
const again = await loadCheckpoint(bytes, { context: gan.context });
const onnx = await exportOnnx(gan);
console.log(JSON.stringify({ before, after, iteration: gan.trainer.iteration, reopened: again.trainer.iteration, checkpointBytes: bytes.length, onnxBytes: onnx.length, presets: Object.keys(presets) }));
destroySession(gan);
`;

const pageHtml = `<!doctype html>
<html><head><meta charset="utf-8"><title>My GAN</title></head>
<body><p id="status">loading</p><canvas id="samples"></canvas><script type="module" src="page.bundle.js"></script></body></html>
`;

test('the packed package installs into a new project, trains a toy in Node and in a page of its own', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'gan-package-'));
  try {
    execFileSync(npm, ['pack', '--pack-destination', work, '--silent'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    assert.ok(tarball, 'npm pack wrote no tarball');
    const project = join(work, 'project');
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'my-gan-page', version: '1.0.0', private: true, type: 'module' }),
    );
    execFileSync(
      npm,
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', join(work, tarball)],
      { cwd: project, stdio: ['ignore', 'inherit', 'inherit'] },
    );

    writeFileSync(join(project, 'train.mjs'), nodeScript);
    const output = execFileSync(process.execPath, ['train.mjs'], {
      cwd: project,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const node = JSON.parse(output.trim().split('\n').pop()!);
    t.diagnostic(`Node: ${JSON.stringify(node)}`);
    assert.equal(node.iteration, 200);
    assert.equal(node.reopened, 200);
    assert.ok(node.presets.includes('small-mnist') && node.presets.includes('paper-mnist'));
    assert.ok(node.after < node.before - 0.1, `the divergence falls in Node: ${node.before} -> ${node.after}`);
    assert.ok(node.onnxBytes > 1000 && node.checkpointBytes > 1000);

    copyFileSync(join(root, 'test/package/page.js'), join(project, 'page.js'));
    writeFileSync(join(project, 'index.html'), pageHtml);
    await build({
      entryPoints: [join(project, 'page.js')],
      outfile: join(project, 'page.bundle.js'),
      bundle: true,
      format: 'esm',
      platform: 'browser',
      logLevel: 'error',
      absWorkingDir: project,
    });
    const site = await serveSite(project, packagedMnistDir());
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
      await page.goto(site.url);
      await page.waitForFunction(() => 'result' in window, undefined, { timeout: 240_000 });
      const result = await page.evaluate(
        () => (window as unknown as { result: Record<string, number | string> }).result,
      );
      t.diagnostic(`page: ${JSON.stringify(result)}`);
      assert.equal(result.error, undefined, String(result.error));
      assert.equal(result.iteration, 60);
      assert.equal(result.reopened, 60);
      assert.ok(
        Number(result.after) < Number(result.before),
        `the divergence falls in the page: ${result.before} -> ${result.after}`,
      );
      // D's heat map, the data's points and G's: a blank or one-colour canvas has drawn nothing.
      assert.ok(Number(result.colours) > 10, `the canvas shows ${result.colours} colours`);
    } finally {
      await browser.close();
      await site.close();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
