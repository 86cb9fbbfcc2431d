// The training page's controls and the lines it shows (status, error), with the names of the data
// sources the page offers: what the page's other modules share.
import { presets } from '../src/index';
import { $ } from './common';

/** Where the page's data comes from: the sets the page's server holds, or the user's own images. */
export type DataSource = 'mnist' | 'fashion-mnist' | 'emoji' | 'images';
export const SHIPPED: readonly string[] = ['mnist', 'fashion-mnist', 'emoji'];
export const SOURCE_NAMES: Record<DataSource, string> = {
  mnist: 'MNIST',
  'fashion-mnist': 'Fashion-MNIST',
  emoji: 'Twemoji',
  images: 'your images',
};
export const DOWNLOAD_SIZES: Record<string, string> = {
  mnist: '55 MB',
  'fashion-mnist': '55 MB',
  emoji: 'about 3,800 PNG files, 18 MB',
};
/** The presets whose data the page's server holds; any of them also trains on the user's images. */
export const PAGE_PRESETS = Object.keys(presets).filter((name) => SHIPPED.includes(presets[name].data));

export const controls = {
  preset: $<HTMLSelectElement>('#preset'),
  k: $<HTMLInputElement>('#k'),
  lr: $<HTMLInputElement>('#lr'),
  batch: $<HTMLInputElement>('#batch'),
  gLoss: $<HTMLSelectElement>('#gloss'),
  optimizer: $<HTMLSelectElement>('#optimizer'),
  start: $<HTMLButtonElement>('#start'),
  step: $<HTMLButtonElement>('#step'),
  save: $<HTMLButtonElement>('#save'),
  onnx: $<HTMLButtonElement>('#onnx'),
  load: $<HTMLInputElement>('#load'),
  endpoints: $<HTMLButtonElement>('#endpoints'),
  resume: $<HTMLButtonElement>('#resume'),
  rawGenerator: $<HTMLInputElement>('#raw-generator'),
  pretrained: $<HTMLButtonElement>('#pretrained'),
  pretrainedModel: $<HTMLSelectElement>('#pretrained-model'),
  data: $<HTMLSelectElement>('#data'),
  imageSource: $('#image-source'),
  folder: $<HTMLInputElement>('#folder'),
  imageSize: $<HTMLInputElement>('#image-size'),
  grey: $<HTMLInputElement>('#grey'),
  classes: $('#classes'),
  classSection: $('#class-section'),
  sampleClass: $<HTMLSelectElement>('#class'),
  classFrom: $<HTMLSelectElement>('#class-from'),
  classTo: $<HTMLSelectElement>('#class-to'),
};
export const status = $('#status');
const errorBox = $('#error');

export function showError(message: string | undefined): void {
  errorBox.hidden = !message;
  errorBox.textContent = message ?? '';
}
