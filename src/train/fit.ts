// A run's config fitted to its data, in one place for the command line, the pages and the package:
// the config validated (before any file is read), the data read or taken as given and checked, what
// the config leaves to the data taken from it (an IDX set's or a page's images' shape, a conditional
// model's classes) and the data checked against the model. Each check runs once per run; what comes
// out is trained as it is (session.ts checks nothing again). Refusals name what the user typed,
// where the caller says what that was.
import { readMnist } from '#mnist-files';
import { readCifar10, readEmoji, readFashionMnist, readIdxDataset, readImageFolder } from '#dataset-files';
import type { Mnist } from '../data/mnist-format';
import { checkDataset, mnistAsDataset, type ImageDataset } from '../data/image-dataset';
import { DataFileError } from '../data/idx';
import { imageShape, isToyData, type ImageDataKind, type ImageShape, type TrainConfig } from '../spec/config';
import { checkImageData, ConfigError, shapeText, validateConfig, withImageShape } from './config';

/** A config and the image data it was fitted to (none for a toy, or when the data is read elsewhere). */
export interface FittedRun {
  config: TrainConfig;
  dataset?: ImageDataset;
}

export interface FitOptions {
  /** Image data already loaded (a page's chosen files, MNIST kept between runs); otherwise read. */
  dataset?: ImageDataset;
  /** MNIST already in memory; otherwise it is read or fetched. */
  mnist?: Mnist;
  /**
   * Where MNIST is read (Node: a directory) or fetched (a page: a URL, relative to the page) when
   * `mnist` is not given; default config.dataDir, and where that is empty the packaged files in Node
   * and data/mnist/ in a page.
   */
  mnistFrom?: string;
  /** False: validate the config only (a --browser run reads its data in the page). */
  readData?: boolean;
  /**
   * What a new run leaves to the data: the image shape (G's output follows it) and the classes of a
   * conditional model. A resumed run adopts nothing: its data must fit the checkpoint.
   */
  adopt?: { shape?: boolean; classes?: boolean };
  /** What the user typed, for the refusals: what asked for classes (`--conditional`), the checkpoint resumed (`--resume FILE`). */
  typed?: { classes?: string; resume?: string };
  /** A validation error as the user's words: a field a flag set named by the flag. */
  explain?: (err: unknown, config: TrainConfig) => unknown;
}

/** `config` fitted to its data: the one check of both before a run is built. */
export async function fitRun(config: TrainConfig, options: FitOptions = {}): Promise<FittedRun> {
  const explained = (check: () => void) => {
    try {
      check();
    } catch (err) {
      throw options.explain ? options.explain(err, fitted) : err;
    }
  };
  const fitted = structuredClone(config);
  // Before the data is read: a config that cannot name its data (no --data) is refused first.
  explained(() => validateConfig(fitted));
  if (options.readData === false || isToyData(fitted.data)) return { config: fitted };
  const dataset = checkDataset(options.dataset ?? (await readImageData(fitted, options)));
  if (options.adopt?.shape) {
    withImageShape(fitted, { channels: dataset.channels, height: dataset.height, width: dataset.width });
    explained(() => checkImageData(fitted));
  }
  if (options.adopt?.classes) {
    if (dataset.classes < 2) {
      const hint = dataset.kind === 'images' ? ": put each class's images in a subfolder of its own" : '';
      throw new ConfigError(
        `${options.typed?.classes ?? 'a conditional model'}: ${dataset.source} has ${dataset.classes === 0 ? 'no labels' : 'one class'}, so there is no class to condition on${hint}.`,
      );
    }
    // checkDataset bounds the classes well within the config's range.
    fitted.classes = dataset.classes;
  }
  try {
    checkDataFits(fitted, dataset);
  } catch (err) {
    const resume = options.typed?.resume;
    if (resume && err instanceof DataFileError)
      throw new DataFileError(`${resume}: ${err.message} Resume with the data the run was trained on.`);
    throw err;
  }
  return { config: fitted, dataset };
}

/** The config's own image data, checked against its model (a page's or a package user's shortcut to fitRun). */
export async function loadImageData(
  config: TrainConfig,
  options: Omit<FitOptions, 'adopt'> = {},
): Promise<ImageDataset> {
  const { dataset } = await fitRun(config, options);
  if (!dataset) throw new ConfigError(`config field 'data': '${config.data}' is not image data.`);
  return dataset;
}

/**
 * The config's image data as its files hold it (Node: a directory, the packaged MNIST or
 * Fashion-MNIST; a page: fetched), not yet checked: fitRun checks it. A folder of images is cut to
 * the config's size.
 */
export async function readImageData(
  config: TrainConfig,
  options: Pick<FitOptions, 'mnist' | 'mnistFrom'> = {},
): Promise<ImageDataset> {
  const shape = imageShape(config);
  if (!shape) throw new ConfigError(`config field 'data': '${config.data}' is not image data.`);
  return readKind(config.data as ImageDataKind, options.mnistFrom ?? config.dataDir, shape, options.mnist);
}

async function readKind(kind: ImageDataKind, from: string, shape: ImageShape, mnist?: Mnist): Promise<ImageDataset> {
  switch (kind) {
    case 'mnist':
      return mnistAsDataset(mnist ?? (await readMnist(from)));
    case 'fashion-mnist':
      return readFashionMnist(from);
    case 'idx':
      return readIdxDataset(from);
    case 'cifar10':
      return readCifar10(from);
    case 'images':
      return readImageFolder(from, { size: shape.height, grey: shape.channels === 1 });
    case 'emoji':
      return readEmoji(from, { size: shape.height });
  }
}

/** The data's images must be the shape the model was built for: one line naming both. */
function checkDataFits(config: TrainConfig, dataset: ImageDataset): void {
  const shape = imageShape(config)!;
  const got = { channels: dataset.channels, height: dataset.height, width: dataset.width };
  if (got.channels !== shape.channels || got.height !== shape.height || got.width !== shape.width) {
    throw new DataFileError(
      `${dataset.source}: images are ${shapeText(got)}, but the model (preset ${config.preset}) is built for ${shapeText(shape)}.`,
    );
  }
  // The model's domain: contrast-normalised values or [0, 1] pixels; a run must not mix them.
  const normalised = config.data === 'cifar10';
  if (normalised !== (dataset.contrastScale !== undefined)) {
    throw new DataFileError(
      `${dataset.source}: ${dataset.kind} data ${dataset.contrastScale !== undefined ? 'is' : 'is not'} contrast-normalised, but the config's data '${config.data}' ${normalised ? 'is' : 'is not'}.`,
    );
  }
}
