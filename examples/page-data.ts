// Where the training page's images come from: MNIST, Fashion-MNIST and Twemoji from the page's
// server (fetched once and kept), or the user's own images, chosen or dropped (read again at another
// size); and the config the page starts with, from its URL.
import {
  configFromJson,
  type ImageDataset,
  loadImageFolder,
  presetConfig,
  readImageData,
  type TrainConfig,
} from '../src/index';
import { controls, DOWNLOAD_SIZES, type DataSource, SHIPPED, SOURCE_NAMES, status } from './page-controls';

export /** Files dropped on the page, folders walked: each file's path (for class folders) as webkitRelativePath. */
async function droppedFiles(transfer: DataTransfer): Promise<File[]> {
  // Entries must be taken before the first await: the drop's data is gone after the event.
  const entries = Array.from(transfer.items, (item) => item.webkitGetAsEntry?.()).filter(
    (e): e is FileSystemEntry => !!e,
  );
  if (entries.length === 0) return Array.from(transfer.files);
  const files: File[] = [];
  const walk = async (entry: FileSystemEntry, path: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      Object.defineProperty(file, 'webkitRelativePath', { value: `${path}${file.name}` });
      files.push(file);
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      // readEntries answers in batches (100 in Chrome) until it answers none.
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
        if (batch.length === 0) break;
        for (const child of batch) await walk(child, `${path}${entry.name}/`);
      }
    }
  };
  for (const entry of entries) await walk(entry, '');
  return files;
}

export class PageData {
  /** The sets of the page's server once fetched, kept for the page's later runs. */
  private readonly shipped = new Map<string, ImageDataset>();
  /** The user's images as last read, and the files they were read from (read again at another size). */
  images?: ImageDataset;
  private imageFiles?: File[];

  /** The config's images on the CPU: fetched once (MNIST, Fashion-MNIST) or the user's, as last read. */
  async dataset(config: TrainConfig): Promise<ImageDataset> {
    if (config.data === 'images') {
      if (!this.images)
        throw new Error(
          `Preset ${config.preset} trains on a folder of images: choose one (or drop images on the page) first.`,
        );
      return this.images;
    }
    if (!SHIPPED.includes(config.data))
      throw new Error(
        `This page trains on MNIST, Fashion-MNIST, Twemoji or your images, not '${config.data}' (the lab, lab.html, trains the toys).`,
      );
    // Twemoji are read at the model's size, as the command line reads them.
    const key = config.data === 'emoji' ? `emoji-${config.image!.height}` : config.data;
    let dataset = this.shipped.get(key);
    if (!dataset) {
      status.textContent = `Loading ${SOURCE_NAMES[config.data as DataSource]} (${DOWNLOAD_SIZES[config.data]})…`;
      // From this page's server (data/mnist/, data/fashion-mnist/, data/emoji/), whatever directory a command-line run named.
      dataset = await readImageData({ ...config, dataDir: '' });
      this.shipped.set(key, dataset);
    }
    return dataset;
  }

  /**
   * Reads the user's images (`files`, or those last chosen) at the size and colour the controls say;
   * undefined when none were chosen. A file that cannot be read throws one line naming it.
   */
  async readImages(files?: File[]): Promise<ImageDataset | undefined> {
    if (files) this.imageFiles = files;
    if (!this.imageFiles) return undefined;
    const size = Number(controls.imageSize.value);
    status.textContent = `Reading ${this.imageFiles.length} files…`;
    this.images = await loadImageFolder(this.imageFiles, { size, grey: controls.grey.checked, seed: 1 });
    return this.images;
  }
}

export function initialConfig(params: URLSearchParams): TrainConfig {
  const preset = params.get('preset') ?? 'small-mnist';
  const overrides = params.get('config');
  const config = overrides
    ? configFromJson({ preset, ...JSON.parse(overrides) }, 'the URL parameter config')
    : presetConfig(preset);
  if (config.data.startsWith('toy'))
    throw new Error(`Preset ${config.preset} is a toy; open the lab (lab.html) for it.`);
  if (!SHIPPED.includes(config.data))
    throw new Error(
      `Preset ${config.preset} trains on ${config.data} files, which this page's server does not hold; train it with the command line, or choose a small preset and your own images.`,
    );
  return config;
}
