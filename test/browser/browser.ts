// Builds the pages with Vite, serves them on a loopback port, and opens one in headless Chromium
// with WebGPU enabled (Debian's /usr/bin/chromium on Linux; CHROMIUM_PATH overrides).
import { existsSync } from 'node:fs';
import { build, preview } from 'vite';
import { chromium, type Page } from 'playwright-core';

const candidates = [
  process.env.CHROMIUM_PATH,
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
];

export function chromiumPath(): string {
  const found = candidates.find((p): p is string => !!p && existsSync(p));
  if (!found)
    throw new Error("No Chromium found: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH.");
  return found;
}

export async function withPage(path: string, use: (page: Page) => Promise<void>): Promise<void> {
  await build({ logLevel: 'error' });
  const server = await preview({ preview: { host: '127.0.0.1', port: 0 }, logLevel: 'error' });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('The preview server has no port');
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: [
      '--enable-unsafe-webgpu',
      '--enable-features=Vulkan',
      '--use-angle=swiftshader',
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  try {
    const page = await browser.newPage();
    page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
    await page.goto(`http://127.0.0.1:${address.port}${path}`);
    await use(page);
  } finally {
    await browser.close();
    await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
  }
}
