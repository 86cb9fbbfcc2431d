// The layers run one way (docs/kernels.md, "How the code is laid out"): read from the import graph of every
// file under src/ and of the pages, so a new file is checked the day it is written.
//   spec <- gpu <- data <- kernels <- nn <- train <- view (the pages' canvas views and render wrappers)
//   train <- eval, io <- cli; the package entry above them all
// A file imports its own folder or a lower layer; eval, io and view, side by side, do not import each
// other, and view, being for the pages, is imported by the package entry only (not by cli).
// The CPU reference (the oracle of the tests) imports spec, nn/layout and itself, and only
// tests, benches and the kernel-check page import it. The pages use the public API (src/index.ts). node:* and Node's built-ins appear only in
// src/cli, src/io and the *-node.ts halves that package.json's import conditions choose between.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinModules } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import ts from 'typescript';

const root = normalize(join(import.meta.dirname, '..'));
const RANK: Record<string, number> = {
  spec: 0,
  gpu: 1,
  data: 2,
  kernels: 3,
  nn: 4,
  train: 5,
  eval: 6,
  io: 6,
  view: 6,
  cli: 7,
  '(entry)': 7,
};
/** Layers that only the package entry may import (the pages reach them through the public API). */
const ENTRY_ONLY = new Set(['view']);
const ORDER = 'spec <- gpu <- data <- kernels <- nn <- train <- view; train <- eval, io <- cli';
const NODE_ALLOWED = new Set(['cli', 'io']);
const builtins = new Set(builtinModules);
/** Pages that look beneath the public API: the kernel check compares kernels with their twins; the headless page is the command line's. */
const PAGES_BEHIND_THE_API = new Set(['examples/kernel-check.ts', 'examples/headless.ts']);
const packageImports = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).imports as Record<
  string,
  Record<string, string>
>;

function tsFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The repository paths (without extension) an import names, or the bare specifier of a package. */
function targets(file: string, specifier: string): { local: string[] } | { external: string } {
  if (specifier.startsWith('#')) {
    const entry = packageImports[specifier];
    assert.ok(entry, `${file}: '${specifier}' is not in package.json's imports`);
    return { local: Object.values(entry).map((p) => normalize(p).replace(/\.tsx?$/, '')) };
  }
  if (!specifier.startsWith('.')) return { external: specifier };
  return {
    local: [
      normalize(join(dirname(file), specifier))
        .replace(/\.(tsx?|js)$/, '')
        .replace(/\?.*$/, ''),
    ],
  };
}

/** The layer of a repository path: its folder under src/, '(entry)' for src's own files, undefined outside src. */
function layerOf(path: string): string | undefined {
  const parts = path.split('/');
  if (parts[0] !== 'src') return undefined;
  return parts.length === 2 ? '(entry)' : parts[1];
}

function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
  return info.importedFiles.map((f) => f.fileName);
}

function violations(file: string, specifiers = importsOf(file)): string[] {
  const found: string[] = [];
  const from = layerOf(file);
  const isNodeHalf = /-node\.ts$/.test(file);
  for (const specifier of specifiers) {
    const target = targets(file, specifier);
    if ('external' in target) {
      const isBuiltin = target.external.startsWith('node:') || builtins.has(target.external.split('/')[0]);
      if (isBuiltin && from !== undefined && !NODE_ALLOWED.has(from) && !isNodeHalf)
        found.push(
          `${file} imports '${target.external}': Node's modules belong in src/cli, src/io or a *-node.ts half`,
        );
      if (from === 'spec') found.push(`${file} imports '${target.external}': spec imports nothing`);
      continue;
    }
    for (const path of target.local) {
      const to = layerOf(path);
      if (to === undefined) continue;
      if (to === 'reference') {
        const allowed =
          from === undefined
            ? !file.startsWith('examples/') || file === 'examples/kernel-check.ts'
            : from === 'reference';
        if (!allowed)
          found.push(`${file} imports ${path}: only tests, benches and the kernel-check page use the CPU reference`);
        continue;
      }
      if (from === undefined) {
        if (file.startsWith('examples/') && !PAGES_BEHIND_THE_API.has(file) && to !== '(entry)')
          found.push(`${file} imports ${path}: the pages use the public API (src/index.ts)`);
        continue;
      }
      if (from === 'reference') {
        if (to !== 'spec' && path !== 'src/nn/layout')
          found.push(`${file} imports ${path}: the reference imports spec, nn/layout and itself only`);
        continue;
      }
      if (from === to) continue;
      if (to === '(entry)') {
        found.push(`${file} imports ${path}: the package entry imports the layers, not the reverse`);
        continue;
      }
      if (!(RANK[to] < RANK[from]))
        found.push(`${file} (${from}) imports ${path} (${to}): against the layer order ${ORDER}`);
      else if (ENTRY_ONLY.has(to) && from !== '(entry)')
        found.push(`${file} (${from}) imports ${path} (${to}): ${to} is for the pages, through the package entry only`);
    }
  }
  return found;
}

test('no module under src/ is imported by a name held in a variable (which would hide it from the order)', () => {
  const hidden = tsFiles('src').filter((file) =>
    /\bimport\(\s*(\/\*[^*]*\*\/\s*)?(?!['"`])/.test(readFileSync(join(root, file), 'utf8')),
  );
  assert.deepEqual(hidden, []);
});

test('every folder under src/ has a place in the layer order', () => {
  const folders = readdirSync(join(root, 'src'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  const unknown = folders.filter((f) => RANK[f] === undefined && f !== 'reference');
  assert.deepEqual(unknown, [], `folders without a layer: ${unknown.join(', ')}`);
});

test('imports under src/ and in the pages follow the layer order', () => {
  const files = [...tsFiles('src'), ...tsFiles('examples'), ...tsFiles('test'), ...tsFiles('bench')].map((f) =>
    relative(root, join(root, f)),
  );
  assert.ok(files.length > 50, `only ${files.length} files found`);
  const found = files.flatMap((f) => violations(f));
  assert.deepEqual(found, []);
});

test('the checker catches an import against the order, a node:* import in a browser layer and a use of the reference', () => {
  // The rules above on made-up edges, so a checker that sees nothing cannot pass.
  const check = (file: string, specifier: string) => violations(file, [specifier]);
  assert.equal(check('src/train/trainer.ts', '../io/checkpoint').length, 1);
  assert.equal(check('src/eval/sampler.ts', '../io/checkpoint').length, 1);
  assert.equal(check('src/kernels/dense.ts', '../reference/dense').length, 1);
  assert.equal(check('src/reference/step.ts', '../train/config').length, 1);
  assert.equal(check('src/nn/mlp.ts', 'node:fs').length, 1);
  assert.equal(check('src/spec/rng.ts', 'anything').length, 1);
  assert.equal(check('examples/lab.ts', '../src/reference/dense').length, 1);
  assert.equal(check('examples/lab.ts', '../src/train/trainer').length, 1);
  assert.equal(check('examples/lab.ts', '../src/index').length, 0);
  assert.equal(check('src/gpu/shader-files-node.ts', 'node:fs').length, 0);
  assert.equal(check('src/io/checkpoint.ts', 'node:fs').length, 0);
  assert.equal(check('src/train/trainer.ts', '../kernels/dense').length, 0);
  assert.equal(check('src/reference/mlp.ts', '../nn/layout').length, 0);
  // view sits above train, beside eval and io, and only the package entry imports it.
  assert.equal(check('src/view/canvas.ts', '../train/trainer').length, 0);
  assert.equal(check('src/view/canvas.ts', './render').length, 0);
  assert.equal(check('src/index.ts', './view/canvas').length, 0);
  assert.equal(check('src/train/trainer.ts', '../view/canvas').length, 1);
  assert.equal(check('src/kernels/dense.ts', '../view/render').length, 1);
  assert.equal(check('src/eval/sampler.ts', '../view/canvas').length, 1);
  assert.equal(check('src/view/canvas.ts', '../io/images').length, 1);
  assert.equal(check('src/view/canvas.ts', '../eval/sampler').length, 1);
  assert.equal(check('src/cli/train.ts', '../view/canvas').length, 1);
  assert.equal(check('examples/lab.ts', '../src/view/canvas').length, 1);
  assert.equal(check('src/view/canvas.ts', 'node:fs').length, 1);
});
