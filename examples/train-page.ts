// The live training page: trains a preset in this tab with the same session and trainer as `gan
// train`, on MNIST, Fashion-MNIST, Twemoji or a folder of the user's own images (chosen or dropped),
// draws the samples with a render pipeline straight from the generator's output (grey or colour, at
// the data's size), charts the metrics, and saves and opens the command line's checkpoint files. A
// conditional model (cmnist-small) gets a class picker for the fixed-noise grid and an interpolation
// between two classes at fixed z; an unconditional one G(E(x)) and the completion of erased pixels.
// This file starts the page and wires its controls; the page itself is training-page.ts (the
// controls' actions) on page-model.ts (the model's life), with page-views.ts, page-data.ts,
// inference-view.ts and inpaint-view.ts.
//
// URL parameters: preset=NAME, config=JSON (a partial config merged onto its preset, as --config),
// autostart=1. Tests read window.ganPage and document.body.dataset.state.
import { modelLimits, presetConfig, Runtime, Clock } from '../src/index';
import { canvasPresentation, pageDevice } from './common';
import { offerEmoji } from './emoji-source';
import type { ModelHost } from './image-pad';
import { InferenceView } from './inference-view';
import { InpaintView } from './inpaint-view';
import { SemiSupervisedView } from './semi-view';
import { controls, type DataSource, PAGE_PRESETS, showError } from './page-controls';
import { droppedFiles, initialConfig } from './page-data';
import { TrainingPage } from './training-page';

async function main(): Promise<void> {
  for (const name of PAGE_PRESETS) controls.preset.add(new Option(name, name));
  const params = new URLSearchParams(location.search);
  const config = initialConfig(params);
  const limits = modelLimits(presetConfig('paper-mnist'));
  for (const [name, value] of Object.entries(modelLimits(config))) limits[name] = Math.max(limits[name], value);
  // Asked before the page's device exists: a probe that loses its device leaves the next one working.
  const present = await canvasPresentation();
  const context = await pageDevice(limits);
  if (!context) return;
  const page = new TrainingPage(context, new Runtime(context), new Clock(context.device), present);
  controls.resume.addEventListener('click', async () => {
    controls.resume.hidden = true;
    const presentNow = await canvasPresentation();
    const fresh = await pageDevice(limits);
    if (!fresh) return;
    await page.recover(fresh, presentNow).then(
      () => page.controller.report(),
      (err: Error) => page.controller.report(err),
    );
  });
  (window as unknown as { ganPage: TrainingPage }).ganPage = page;
  const host: ModelHost = {
    get trainer() {
      return page.trainer;
    },
    get present() {
      return page.present;
    },
    get images() {
      return page.trainingImages;
    },
    exclusive: (action) => page.controller.exclusive(action),
    report: (err) => page.controller.report(err),
  };
  const inference = new InferenceView(host);
  page.modelViews = {
    inference,
    inpaint: new InpaintView(host, () => inference.encoder),
    semi: new SemiSupervisedView(host),
  };
  void offerEmoji(controls.data);
  await page.start(config);
  for (const control of [
    controls.start,
    controls.step,
    controls.save,
    controls.onnx,
    controls.load,
    controls.endpoints,
    controls.pretrained,
    controls.data,
    controls.folder,
  ])
    control.disabled = false;
  controls.pretrained.addEventListener('click', () => void page.loadPretrained(controls.pretrainedModel.value));
  controls.start.addEventListener('click', () => (page.running ? page.pause() : void page.run()));
  controls.step.addEventListener('click', () => void page.step());
  controls.save.addEventListener('click', () => void page.save());
  controls.onnx.addEventListener('click', () => void page.saveOnnx().catch((err) => page.controller.report(err)));
  controls.endpoints.addEventListener('click', () => page.newEndpoints());
  controls.rawGenerator.addEventListener('change', () => void page.showGenerator(controls.rawGenerator.checked));
  controls.load.addEventListener('change', () => {
    const file = controls.load.files?.[0];
    if (file) void page.load(file);
    controls.load.value = '';
  });
  controls.preset.addEventListener('change', () => void page.choosePreset(controls.preset.value));
  controls.data.addEventListener('change', () => void page.useSource(controls.data.value as DataSource));
  controls.folder.addEventListener('change', () => {
    const files = Array.from(controls.folder.files ?? []);
    controls.folder.value = '';
    if (files.length > 0) void page.useImages(files);
  });
  for (const control of [controls.imageSize, controls.grey])
    control.addEventListener('change', () => void page.useImages());
  // Images dropped anywhere on the page: files, or folders (walked, their subfolders the classes).
  document.addEventListener('dragover', (e) => e.preventDefault());
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    if (!e.dataTransfer) return;
    void droppedFiles(e.dataTransfer).then(
      (files) => page.useImages(files),
      (err: Error) => page.controller.report(err),
    );
  });
  controls.sampleClass.addEventListener('change', () => {
    const value = controls.sampleClass.value;
    void page
      .chooseClass(value === 'rows' ? undefined : Number(value))
      .catch((err: Error) => page.controller.report(err));
  });
  for (const control of [controls.classFrom, controls.classTo]) {
    control.addEventListener(
      'change',
      () =>
        void page
          .chooseClassPair(Number(controls.classFrom.value), Number(controls.classTo.value))
          .catch((err: Error) => page.controller.report(err)),
    );
  }
  for (const control of [controls.k, controls.lr, controls.batch, controls.gLoss, controls.optimizer])
    control.addEventListener('change', () => void page.applyControls());
  if (params.get('autostart') === '1') void page.run();
}

main().catch((err: Error) => {
  showError(err.message);
  document.body.dataset.state = 'error';
});
