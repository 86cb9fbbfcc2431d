// Builds the npm package into dist/: the public API (src/index.ts) as ESM for browsers and for Node,
// with every shader bundled as a string (no bundler-specific code ships), and its .d.ts files.
// `npm pack` runs it (prepack).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const imports = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).imports;
const shaderDir = join(root, 'shaders');
const shaders = Object.fromEntries(
  readdirSync(shaderDir)
    .filter((f) => f.endsWith('.wgsl'))
    .sort()
    .map((f) => [f.slice(0, -'.wgsl'.length), readFileSync(join(shaderDir, f), 'utf8')]),
);

/** '#shader-files' as the shaders' text, and the other '#' imports as the platform's half. */
function packageImports(platform) {
  return {
    name: 'package-imports',
    setup(builder) {
      builder.onResolve({ filter: /^#shader-files$/ }, () => ({ path: 'shader-files', namespace: 'embedded-shaders' }));
      builder.onLoad({ filter: /.*/, namespace: 'embedded-shaders' }, () => ({
        contents: `import { shaderLookup } from ${JSON.stringify(join(root, 'src/gpu/shader-table.ts'))};\nexport const readShaderFile = shaderLookup(${JSON.stringify(shaders)});\n`,
        loader: 'ts',
        resolveDir: root,
      }));
      builder.onResolve({ filter: /^#/ }, ({ path }) => {
        const halves = imports[path];
        if (!halves) return { errors: [{ text: `${path} is not in package.json's imports` }] };
        return { path: join(root, platform === 'browser' ? halves.browser : halves.default) };
      });
    },
  };
}

rmSync(join(root, 'dist'), { recursive: true, force: true });
for (const platform of ['browser', 'node']) {
  await build({
    entryPoints: [join(root, 'src/index.ts')],
    outfile: join(root, `dist/${platform}/index.js`),
    bundle: true,
    format: 'esm',
    platform,
    target: 'es2022',
    packages: 'external',
    sourcemap: true,
    plugins: [packageImports(platform)],
    logLevel: 'warning',
  });
}
execFileSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.package.json')],
  { stdio: 'inherit' },
);
// The declarations name WebGPU's types and wgsl_reflect's module by path (src/gpu/wgsl-reflect-module.d.ts,
// which tsc does not copy): the entry's declaration points at both, so a user's compiler finds them.
copyFileSync(join(root, 'src/gpu/wgsl-reflect-module.d.ts'), join(root, 'dist/types/gpu/wgsl-reflect-module.d.ts'));
const entryTypes = join(root, 'dist/types/index.d.ts');
writeFileSync(
  entryTypes,
  `/// <reference types="@webgpu/types" />\n/// <reference path="./gpu/wgsl-reflect-module.d.ts" />\n${readFileSync(entryTypes, 'utf8')}`,
);
console.log(`built dist/browser, dist/node and dist/types (${Object.keys(shaders).length} shaders bundled)`);
