// `gan report RUN_DIR`: training curves of a run, and the model chosen on validation data. Every
// model-<iter>.safetensors that `gan train --keep-every N` kept (and checkpoint.safetensors when its
// iteration is not among them) is measured by `gan eval --parzen --score`: G's own weights, and the
// moving average of them where the run keeps one. Each measurement is cached as eval-<iter>.json
// (eval-<iter>-raw.json for G's own weights beside an average), so a later report measures only the
// new ones. The model of each generator with the best validation log-likelihood (at the sigma the
// same validation images chose) is the chosen one, as the authors chose theirs; the test figure is
// reported, never used to choose. Writes report.json and report.png (Parzen log-likelihood, Frechet
// distance and speckle against the iteration), and prints the report.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { decodeCheckpoint, readCheckpointFile, writeFileAtomic } from '../io/checkpoint';
import { CheckpointError } from '../io/safetensors';
import { ConfigError } from '../train/config';
import { networkSpecs } from '../train/session';
import { isToyData } from '../spec/config';
import { evaluate, PAPER_COUNTS } from './eval';

export interface ReportFlags {
  samples?: string;
  valid?: string;
  test?: string;
  seed?: string;
  cache?: string;
}

/** The paper's Table 1: the Parzen-window log-likelihood of its MNIST generator (225 ± 2). */
export const PAPER_PARZEN_LL = 225;

const MODEL_FILE = /^model-(\d+)\.safetensors$/;
const CHECKPOINT_FILE = 'checkpoint.safetensors';
/** resvg draws text only with a font it is given; Debian's fonts-dejavu-core (.ci/install-system.sh). */
const DEJAVU_SANS = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';

export interface ReportRow {
  iter: number;
  model: string;
  ll: number;
  se: number;
  sigma: number;
  /** The validation images' mean log-likelihood at the sigma they chose: the figure models are chosen by. */
  valid_ll: number;
  /** null where the data has no labels to train the score's classifier on. */
  fd: number | null;
  class_entropy: number | null;
  /** null for colour or contrast-normalised images, where speckle means nothing. */
  speckle: number | null;
  /** 'average' (the moving average of G's weights) or 'raw' (G's own). */
  generator: Generator;
  /** Read from eval-<iter>.json rather than measured by this report. */
  cached: boolean;
}

type Generator = 'average' | 'raw';

/** What an evaluation was made with: a cached one is reused only when all of it matches. */
interface EvalCounts {
  samples: number;
  valid: number;
  test: number;
  seed: number;
}

interface CachedEvaluation {
  model: string;
  model_sha256: string;
  counts: EvalCounts;
  report: Record<string, unknown>;
}

/** The models of a run in iteration order: the kept ones, and the rolling checkpoint if it is newer. */
function modelsOf(dir: string): { iter: number; file: string }[] {
  if (!existsSync(dir))
    throw new ConfigError(
      `${dir}: no such run directory; give the --out directory of a gan train run made with --keep-every N.`,
    );
  if (!statSync(dir).isDirectory())
    throw new ConfigError(
      `${dir}: not a directory; give the --out directory of a gan train run made with --keep-every N.`,
    );
  const models = readdirSync(dir)
    .map((name) => ({ name, match: MODEL_FILE.exec(name) }))
    .filter(({ match }) => match)
    .map(({ name, match }) => ({ iter: Number(match![1]), file: join(dir, name) }))
    .sort((a, b) => a.iter - b.iter);
  if (models.length === 0)
    throw new ConfigError(
      `${dir}: holds no model-<iter>.safetensors; train with --keep-every N to keep a model every N iterations for the report.`,
    );
  const checkpoint = join(dir, CHECKPOINT_FILE);
  if (existsSync(checkpoint)) {
    const { iteration } = decodeCheckpoint(readCheckpointFile(checkpoint), checkpoint, networkSpecs);
    if (!models.some((m) => m.iter === iteration)) models.push({ iter: iteration, file: checkpoint });
    models.sort((a, b) => a.iter - b.iter);
  }
  return models;
}

/** The counts as evaluate() will use them; evaluate() itself refuses bad ones. */
function countsOf(flags: ReportFlags): EvalCounts {
  return {
    samples: Number(flags.samples ?? PAPER_COUNTS.samples),
    valid: Number(flags.valid ?? PAPER_COUNTS.valid),
    test: Number(flags.test ?? PAPER_COUNTS.test),
    seed: Number(flags.seed ?? 0),
  };
}

function readCached(path: string): CachedEvaluation | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as CachedEvaluation;
  } catch {
    // A cache file that does not parse is measured again and rewritten.
    return undefined;
  }
}

const sameCounts = (a: EvalCounts | undefined, b: EvalCounts) =>
  !!a && a.samples === b.samples && a.valid === b.valid && a.test === b.test && a.seed === b.seed;

function rowOf(iter: number, model: string, report: Record<string, unknown>, cached: boolean): ReportRow {
  const score = report.score as { fd?: number; class_entropy?: number; speckle?: number };
  return {
    iter,
    model,
    ll: report.ll as number,
    se: report.se as number,
    sigma: report.sigma as number,
    valid_ll: report.valid_ll as number,
    fd: score.fd ?? null,
    class_entropy: score.class_entropy ?? null,
    speckle: score.speckle ?? null,
    generator: report.generator as Generator,
    cached,
  };
}

/**
 * Per generator, the kept model (model-<iter>.safetensors) with the best validation log-likelihood,
 * the first of equal ones. The rolling checkpoint is measured but not chosen: it sits wherever the
 * run happened to stop, not at an iteration the run set out to keep.
 */
export function chooseOnValidation(rows: ReportRow[]): Partial<Record<Generator, ReportRow>> {
  const chosen: Partial<Record<Generator, ReportRow>> = {};
  for (const row of rows) {
    if (!MODEL_FILE.test(basename(row.model))) continue;
    const best = chosen[row.generator];
    if (!best || row.valid_ll > best.valid_ll) chosen[row.generator] = row;
  }
  return chosen;
}

/** Everything `gan report` does but the printing: measures what is not cached, writes report.json and report.png. */
export async function reportRun(dir: string, flags: ReportFlags = {}): Promise<Record<string, unknown>> {
  const models = modelsOf(dir);
  const counts = countsOf(flags);
  // Which measurements are needed, each model checked before any is measured: a bad file fails in a
  // second, not after the minutes that the models before it take.
  const plan = models.flatMap(({ iter, file }) => {
    const bytes = readCheckpointFile(file);
    // The model's bytes are part of the key: a run trained again into the same directory is measured again.
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const state = decodeCheckpoint(bytes, file, networkSpecs);
    if (state.iteration !== iter)
      throw new CheckpointError(`${file}: holds iteration ${state.iteration}, its name says ${iter}.`);
    if (isToyData(state.config.data))
      throw new ConfigError(
        `${file}: the model was trained on the toy '${state.config.data}'; the report measures image models (preset ${state.config.preset} is not one).`,
      );
    const generators: Generator[] = state.generator.average ? ['average', 'raw'] : ['raw'];
    return generators.map((generator) => {
      const cachePath = join(
        dir,
        generator === 'raw' && state.generator.average ? `eval-${iter}-raw.json` : `eval-${iter}.json`,
      );
      const cached = readCached(cachePath);
      const reusable =
        !!cached &&
        cached.model_sha256 === sha256 &&
        sameCounts(cached.counts, counts) &&
        cached.report?.iteration === iter &&
        cached.report.generator === generator &&
        typeof cached.report.valid_ll === 'number';
      return { iter, file, generator, cachePath, sha256, cached: reusable ? cached : undefined };
    });
  });
  const toMeasure = plan.filter((p) => !p.cached).length;
  const rows: ReportRow[] = [];
  let preset: string | null = null;
  let data: string | null = null;
  let measured = 0;
  for (const { iter, file, generator, cachePath, sha256, cached } of plan) {
    let report: Record<string, unknown>;
    if (cached) {
      report = cached.report;
    } else {
      console.error(
        `gan report: measuring ${file}, ${generator === 'raw' ? "G's own weights" : "the average of G's weights"} (${++measured} of ${toMeasure})`,
      );
      report = await evaluate({
        checkpoint: file,
        parzen: true,
        score: true,
        samples: flags.samples,
        valid: flags.valid,
        test: flags.test,
        seed: flags.seed,
        cache: flags.cache,
        rawGenerator: generator === 'raw',
      });
      const entry: CachedEvaluation = { model: file, model_sha256: sha256, counts, report };
      writeFileAtomic(cachePath, new TextEncoder().encode(JSON.stringify(entry, null, 2) + '\n'));
    }
    preset ??= report.preset as string;
    data ??= (report.data as { kind?: string } | undefined)?.kind ?? 'mnist';
    rows.push(rowOf(iter, file, report, !!cached));
  }
  const png = join(dir, 'report.png');
  const chosen = chooseOnValidation(rows);
  const result = {
    run: dir,
    preset,
    counts,
    paper_parzen_ll: PAPER_PARZEN_LL,
    rows,
    chosen_on_validation: chosen,
    png,
  };
  writeFileAtomic(join(dir, 'report.json'), new TextEncoder().encode(JSON.stringify(result, null, 2) + '\n'));
  writeFileAtomic(png, await curvesPng(rows, preset ?? '?', counts, data === 'mnist'));
  for (const row of Object.values(chosen)) {
    console.error(
      `gan report: chosen on validation (${row.generator === 'raw' ? "G's own weights" : "the average of G's weights"}): iteration ${row.iter}, validation ${row.valid_ll.toFixed(1)}, test ${row.ll.toFixed(1)} ± ${row.se.toFixed(1)} (sigma ${row.sigma.toFixed(3)})`,
    );
  }
  return result;
}

/** The three panels as one Vega-Lite chart: the x axis is the iteration in each. */
/** `paperLine`: draw the paper's MNIST figure (Table 1) on the Parzen panel; other data has no such figure. */
export function curvesSpec(rows: ReportRow[], preset: string, counts: EvalCounts, paperLine = true): TopLevelSpec {
  const values = rows.map((r) => ({
    iter: r.iter,
    generator: r.generator === 'raw' ? "G's own weights" : "average of G's weights",
    ll: r.ll,
    ll_low: r.ll - r.se,
    ll_high: r.ll + r.se,
    fd: r.fd,
    speckle_percent: r.speckle === null ? null : 100 * r.speckle,
  }));
  const generator = { field: 'generator', type: 'nominal', title: 'generator' } as const;
  const width = 560;
  const height = 170;
  const iteration = { field: 'iter', type: 'quantitative', title: 'iteration', scale: { zero: false } } as const;
  const line = { type: 'line', point: true } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `${preset}: Parzen log-likelihood, Frechet distance and speckle by iteration`,
      subtitle: `${counts.samples} samples, sigma chosen on ${counts.valid} validation images, measured on ${counts.test} test images, seed ${counts.seed}`,
    },
    data: { values },
    config: { font: 'DejaVu Sans' },
    vconcat: [
      {
        width,
        height,
        layer: [
          {
            mark: { type: 'rule' },
            encoding: {
              x: iteration,
              y: { field: 'll_low', type: 'quantitative' },
              y2: { field: 'll_high' },
              color: generator,
            },
          },
          {
            mark: line,
            encoding: {
              x: iteration,
              y: { field: 'll', type: 'quantitative', title: 'Parzen log-likelihood (nats)', scale: { zero: false } },
              color: generator,
            },
          },
          // The paper's line only where the data is MNIST: an empty data set draws nothing.
          {
            data: { values: paperLine ? [{ paper: PAPER_PARZEN_LL }] : [] },
            mark: { type: 'rule', strokeDash: [6, 4], color: '#c0392b' },
            encoding: { y: { field: 'paper', type: 'quantitative' } },
          },
          {
            data: { values: paperLine ? [{ paper: PAPER_PARZEN_LL, label: `paper: ${PAPER_PARZEN_LL}` }] : [] },
            mark: { type: 'text', align: 'left', dx: 4, dy: -7, color: '#c0392b' },
            encoding: { y: { field: 'paper', type: 'quantitative' }, x: { value: 0 }, text: { field: 'label' } },
          },
        ],
      },
      {
        width,
        height,
        mark: line,
        encoding: {
          x: iteration,
          y: { field: 'fd', type: 'quantitative', title: 'Frechet distance', scale: { zero: false } },
          color: generator,
        },
      },
      {
        width,
        height,
        mark: line,
        encoding: {
          x: iteration,
          y: { field: 'speckle_percent', type: 'quantitative', title: 'speckle (% of bright pixels)' },
          color: generator,
        },
      },
    ],
  };
}

async function curvesPng(
  rows: ReportRow[],
  preset: string,
  counts: EvalCounts,
  paperLine: boolean,
): Promise<Uint8Array> {
  // Imported here, not at the top: vega takes half a second to load, which every other command would pay.
  const [vega, { compile }, { Resvg }] = await Promise.all([
    import('vega'),
    import('vega-lite'),
    import('@resvg/resvg-js'),
  ]);
  const view = new vega.View(vega.parse(compile(curvesSpec(rows, preset, counts, paperLine)).spec), {
    renderer: 'none',
  });
  const svg = await view.toSVG();
  view.finalize();
  // The one font file, where it is installed, so the picture does not depend on the machine's fonts.
  const font = existsSync(DEJAVU_SANS)
    ? { fontFiles: [DEJAVU_SANS], loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans' }
    : { loadSystemFonts: true };
  return new Resvg(svg, { font, fitTo: { mode: 'zoom', value: 2 } }).render().asPng();
}

export async function runReportCommand(dir: string, flags: ReportFlags): Promise<void> {
  console.log(JSON.stringify(await reportRun(dir, flags), null, 2));
}
