// D's features with few labels on the training page (`gan eval --semi-supervised`): for each count of
// labelled training images, a softmax on the last hidden layer of the D the page holds now (frozen, no
// dropout) beside the same softmax on the raw pixels, iterations chosen on validation images, test
// accuracy of both in a table. D is copied out between training windows; the classifiers then train on
// the same device while the page goes on.
import {
  DEFAULT_SEMI_SUPERVISED,
  labelledCountsProblem,
  networkSpecs,
  parseLabelledCounts,
  semiSupervised,
  type SemiSupervisedResult,
} from '../src/index';
import { $ } from './common';
import type { ModelHost } from './image-pad';

const controls = {
  reason: $('#semi-reason'),
  counts: $<HTMLInputElement>('#semi-counts'),
  images: $<HTMLInputElement>('#semi-images'),
  longest: $<HTMLSelectElement>('#semi-longest'),
  run: $<HTMLButtonElement>('#semi-run'),
  status: $('#semi-status'),
  table: $<HTMLTableElement>('#semi-table'),
};

const percent = (accuracy: number) => `${(accuracy * 100).toFixed(1)}%`;

export class SemiSupervisedView {
  /** The last measure's rows (tests read them). */
  results: SemiSupervisedResult[] = [];

  constructor(private readonly host: ModelHost) {
    controls.run.addEventListener('click', () => void this.measure());
  }

  /** Why D's features cannot be measured for this model and data, or undefined when they can. */
  private reason(): string | undefined {
    const { trainer, images } = this.host;
    if (trainer.config.classes > 0)
      return `${trainer.config.preset} is a conditional GAN, whose D is told each image's class: its features are measured for unconditional models only.`;
    if (!images || images.classes < 2 || !images.train.labels || !images.valid.labels || !images.test.labels)
      return 'These images have no labels (class folders or label files) to train or test a classifier with.';
    if (images.valid.count === 0 || images.test.count === 0)
      return 'These images have no validation or test split to choose the iterations and measure the accuracy on.';
    return undefined;
  }

  /** Another model or data in the page: the last table was another D's. */
  modelChanged(): void {
    const reason = this.reason();
    controls.reason.textContent = reason ?? '';
    controls.reason.hidden = !reason;
    controls.run.disabled = !!reason;
    this.results = [];
    controls.table.replaceChildren();
    controls.table.hidden = true;
    controls.status.textContent = '';
  }

  /** Trains the classifiers for each count typed and shows their test accuracy. */
  async measure(): Promise<void> {
    const { trainer, images } = this.host;
    if (this.reason() || !images) return;
    const counts = parseLabelledCounts(controls.counts.value);
    if (!counts) {
      this.host.report(
        new Error(
          `labelled images: '${controls.counts.value}' is not a list of positive counts separated by commas (e.g. 100,600,1000).`,
        ),
      );
      return;
    }
    const problem = labelledCountsProblem(images, counts, 'labelled images');
    if (problem) {
      this.host.report(new Error(problem));
      return;
    }
    const evaluated = Number(controls.images.value);
    if (!Number.isInteger(evaluated) || evaluated < 1) {
      this.host.report(
        new Error(`validation and test images: ${controls.images.value} is not a positive whole number.`),
      );
      return;
    }
    this.host.report();
    controls.run.disabled = true;
    document.body.dataset.semi = 'measuring';
    const started = performance.now();
    try {
      const { params } = await this.host.exclusive(async () => (await trainer.readState()).discriminator);
      const iteration = trainer.iteration;
      controls.status.textContent = `Training ${counts.length * 2} classifiers on iteration ${iteration}'s D…`;
      const split = { valid: Math.min(evaluated, images.valid.count), test: Math.min(evaluated, images.test.count) };
      // A slow device may stop at fewer iterations: the validation images choose among those tried.
      const longest = Number(controls.longest.value);
      const config = {
        ...DEFAULT_SEMI_SUPERVISED,
        checkpoints: DEFAULT_SEMI_SUPERVISED.checkpoints.filter((n) => n <= longest),
      };
      const results = await semiSupervised(
        trainer.rt,
        { spec: networkSpecs(trainer.config).discriminator, params },
        images,
        counts,
        { seed: 0, ...split, config },
      );
      // A model opened or started meanwhile has a D of its own: this table is not its.
      if (this.host.trainer !== trainer) return;
      this.results = results;
      this.showTable(results);
      controls.status.textContent = `Iteration ${iteration}'s D, ${split.valid} validation and ${split.test} test images, up to ${longest} iterations tried, ${((performance.now() - started) / 1000).toFixed(1)} s.`;
    } catch (err) {
      controls.status.textContent = '';
      this.host.report(new Error(`Measuring D's features failed: ${(err as Error).message}`));
    } finally {
      document.body.dataset.semi = 'done';
      controls.run.disabled = !!this.reason();
    }
  }

  private showTable(results: SemiSupervisedResult[]): void {
    const row = (cells: string[], tag: 'th' | 'td') => {
      const tr = document.createElement('tr');
      for (const text of cells) tr.appendChild(Object.assign(document.createElement(tag), { textContent: text }));
      return tr;
    };
    controls.table.replaceChildren(
      row(
        ['labelled images', "softmax on D's features", 'softmax on the pixels', 'iterations (features / pixels)'],
        'th',
      ),
      ...results.map((r) =>
        row(
          [String(r.labels), percent(r.accuracy), percent(r.pixelsAccuracy), `${r.iterations} / ${r.pixelsIterations}`],
          'td',
        ),
      ),
    );
    controls.table.hidden = false;
  }
}
