// Browser: MNIST fetched from the page's server, which serves the four IDX files at data/mnist/
// (vite.config.ts for `npm run dev`, src/cli/browser.ts for `gan train --browser`, which serves the
// directory of --data there). A run's dataDir is a path on the machine that serves the page, so the
// page never reads it.
import { DataFileError } from './idx';
import { assembleMnist, MNIST_FILES, type Mnist, type MnistFile } from './mnist-format';

export const MNIST_URL = 'data/mnist/';

async function fetchFile(name: string): Promise<MnistFile> {
  const url = new URL(`${MNIST_URL}${name}`, document.baseURI).href;
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new DataFileError(`${url}: cannot fetch the MNIST file (${(err as Error).message}).`);
  }
  if (!response.ok) throw new DataFileError(`${url}: the server answered ${response.status} ${response.statusText}; it must serve the four MNIST IDX files at ${MNIST_URL}.`);
  return { path: url, bytes: new Uint8Array(await response.arrayBuffer()) };
}

export async function readMnist(_dir: string): Promise<Mnist> {
  const entries = await Promise.all(Object.entries(MNIST_FILES).map(async ([key, name]) => [key, await fetchFile(name)] as const));
  return assembleMnist(Object.fromEntries(entries) as Record<keyof typeof MNIST_FILES, MnistFile>, new URL(MNIST_URL, document.baseURI).href);
}
