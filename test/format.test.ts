// The code's layout is prettier's (.prettierrc.json), so a change shows what it changes and no one
// formats by hand: `npm run format` rewrites the files this test reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as prettier from 'prettier';

const root = new URL('..', import.meta.url).pathname;
const FORMATTED_DIRS = ['src', 'test', 'bench', 'examples', 'scripts'];
const FORMATTED_EXTENSIONS = /\.(ts|mjs|js)$/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return FORMATTED_EXTENSIONS.test(entry.name) ? [path] : [];
  });
}

test('every source file is laid out as `npm run format` lays it out', async () => {
  const files = FORMATTED_DIRS.flatMap((dir) => sourceFiles(join(root, dir)));
  assert.ok(files.length > 100, `found only ${files.length} source files`);
  const options = await prettier.resolveConfig(join(root, 'src/index.ts'), { editorconfig: false });
  assert.ok(options, '.prettierrc.json was not found');
  const unformatted: string[] = [];
  for (const file of files) {
    if (!(await prettier.check(readFileSync(file, 'utf8'), { ...options, filepath: file })))
      unformatted.push(relative(root, file));
  }
  assert.deepEqual(unformatted, [], `not formatted (run \`npm run format\`): ${unformatted.join(', ')}`);
});
