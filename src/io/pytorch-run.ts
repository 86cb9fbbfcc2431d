// `gan export --pytorch-run DIR`: a directory that continues a run in PyTorch. train.py is one fixed
// file (./pytorch-run/train.py) that builds the networks, the game and the optimizer from config.json,
// so there is no second model definition here to drift from the config; this module writes the state
// it reads (the checkpoint as it is, in our format), the resolved config, where the training images
// are, and the run's metrics so far, which train.py appends to.
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeCheckpoint, writeFileAtomic } from './checkpoint';
import { CheckpointError } from './safetensors';
import { metricsUpTo } from './run';
import { MNIST_FILES, MNIST_TRAIN_COUNT } from '../data/mnist-format';
import { packagedMnistDir } from '../data/mnist-files-node';
import { fashionMnistCacheDir, fashionMnistFromPackage } from '../data/dataset-files-node';
import { ConfigError } from '../train/config';
import { networkSpecs } from '../train/session';
import type { TrainConfig } from '../spec/config';
import type { TrainingState } from '../spec/state';

export const TRAIN_SCRIPT = fileURLToPath(new URL('./pytorch-run/train.py', import.meta.url));

/** data.json: the IDX pair train.py reads and the rows minibatches come from (the trainer's train split). */
export interface PytorchRunData {
  kind: string;
  images: string;
  labels: string;
  first: number;
  count: number;
  scale: number;
}

/** Where the run's training images are on this machine, as IDX files train.py can read. */
async function dataLocation(config: TrainConfig): Promise<PytorchRunData> {
  let dir: string;
  if (config.data === 'mnist') dir = config.dataDir || packagedMnistDir();
  else if (config.data === 'fashion-mnist') {
    // The package's JSON is converted to IDX on first use; this makes sure the cache holds it.
    if (!config.dataDir) await fashionMnistFromPackage();
    dir = config.dataDir || fashionMnistCacheDir();
  } else {
    throw new ConfigError(
      `the run trains on '${config.data}'; --pytorch-run continues MNIST and Fashion-MNIST runs (data 'mnist' or 'fashion-mnist') only.`,
    );
  }
  const images = resolve(dir, MNIST_FILES.trainImages);
  const labels = resolve(dir, MNIST_FILES.trainLabels);
  for (const path of [images, labels]) {
    if (!existsSync(path))
      throw new ConfigError(
        `${path}: not found${existsSync(`${path}.gz`) ? ` (${path}.gz exists: gunzip it)` : ''}; train.py reads the uncompressed IDX file.`,
      );
  }
  return { kind: config.data, images, labels, first: 0, count: MNIST_TRAIN_COUNT, scale: 1 / 255 };
}

const text = (value: unknown) => new TextEncoder().encode(JSON.stringify(value, null, 2) + '\n');

/** Writes the directory; returns what it wrote. `checkpoint` is the file `state` came from. */
export async function exportPytorchRun(
  state: TrainingState,
  checkpoint: string,
  dir: string,
): Promise<{ dir: string; iteration: number; files: string[] }> {
  if (state.weightsOnly)
    throw new CheckpointError(
      `${checkpoint}: holds weights only, no optimizer state; --pytorch-run continues a run from its checkpoint.safetensors.`,
    );
  if (existsSync(dir) && !statSync(dir).isDirectory())
    throw new ConfigError(`--pytorch-run ${dir} is a file; give a directory (it is made if missing).`);
  if (resolve(dir, 'checkpoint.safetensors') === resolve(checkpoint))
    throw new ConfigError(`--pytorch-run ${dir} is the checkpoint's own directory; give another one.`);
  const data = await dataLocation(state.config);
  mkdirSync(dir, { recursive: true });
  const files = ['train.py', 'checkpoint.safetensors', 'config.json', 'data.json'];
  copyFileSync(TRAIN_SCRIPT, join(dir, 'train.py'));
  writeFileAtomic(join(dir, 'checkpoint.safetensors'), encodeCheckpoint(state, networkSpecs(state.config)));
  writeFileAtomic(join(dir, 'config.json'), text(state.config));
  writeFileAtomic(join(dir, 'data.json'), text(data));
  // The run's metrics so far, so the continued run's file is the whole run's.
  const metrics = join(dirname(checkpoint), 'metrics.jsonl');
  const kept = existsSync(metrics)
    ? metricsUpTo(readFileSync(metrics, 'utf8'), state.iteration, state.config.logEvery)
    : '';
  writeFileAtomic(join(dir, 'metrics.jsonl'), new TextEncoder().encode(kept));
  files.push('metrics.jsonl');
  return { dir, iteration: state.iteration, files: files.map((f) => join(dir, f)) };
}
