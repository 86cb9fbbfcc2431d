// Browser: MNIST's four IDX files fetched from a URL: the directory `location` names, relative to the
// page, or data/mnist/ next to the page when it names none (vite.config.ts serves them there for
// `npm run dev`, src/cli/browser.ts for `gan train --browser`). Parsing is in ./mnist-format.ts,
// which the Node half shares.
import { DataFileError } from './idx';
import { assembleMnist, MNIST_FILES, type Mnist, type MnistFile } from './mnist-format';

export const MNIST_URL = 'data/mnist/';

function baseUrl(): string {
  return globalThis.document?.baseURI ?? globalThis.location?.href ?? '';
}

async function fetchFile(directory: string, name: string): Promise<MnistFile> {
  const url = new URL(name, directory).href;
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new DataFileError(`${url}: cannot fetch the MNIST file (${(err as Error).message}).`);
  }
  if (!response.ok)
    throw new DataFileError(
      `${url}: the server answered ${response.status} ${response.statusText}; it must serve the four MNIST IDX files at ${directory}.`,
    );
  return { path: url, bytes: new Uint8Array(await response.arrayBuffer()) };
}

/** MNIST from the URL of a directory that holds its four IDX files (uncompressed); empty: data/mnist/. */
export async function readMnist(location: string): Promise<Mnist> {
  const directory = new URL((location || MNIST_URL).replace(/\/?$/, '/'), baseUrl()).href;
  const entries = await Promise.all(
    Object.entries(MNIST_FILES).map(async ([key, name]) => [key, await fetchFile(directory, name)] as const),
  );
  return assembleMnist(Object.fromEntries(entries) as Record<keyof typeof MNIST_FILES, MnistFile>, directory);
}
