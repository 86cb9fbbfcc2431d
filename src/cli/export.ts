// `gan export`: a checkpoint's model in another file.
// --weights writes G's and D's weights (and G's moving average) without the optimizer state and
// statistics: a third of an Adam run's checkpoint, for sharing a trained model (the pretrained models
// are such files). It samples, evaluates and opens in the page like a checkpoint, and refuses to be
// resumed.
// --onnx and --pytorch take the model out of this project: G (its moving average unless
// --raw-generator, as gan eval measures it) as an ONNX graph or a PyTorch state dict, and with
// --discriminator D beside it as <stem>.discriminator.<ext>. The formats are in src/io/onnx.ts and
// src/io/pytorch-export.ts, which the page shares.
// --pytorch-run DIR writes a directory that continues the run in PyTorch (src/io/pytorch-run.ts).
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { decodeCheckpoint, encodeCheckpoint, readCheckpointFile, writeFileAtomic } from '../io/checkpoint';
import { checkpointToOnnx, ONNX_OPSET } from '../io/onnx';
import { checkpointToPytorch } from '../io/pytorch-export';
import { exportPytorchRun } from '../io/pytorch-run';
import type { Player } from '../io/model-export';
import { ConfigError } from '../train/config';
import { networkSpecs } from '../train/session';

export interface ExportFlags {
  checkpoint?: string;
  weights?: string;
  onnx?: string;
  pytorch?: string;
  discriminator?: boolean;
  /** With --weights: G's weights (and their average) only, without D. */
  generatorOnly?: boolean;
  rawGenerator?: boolean;
  /** A directory that continues the run in PyTorch (train.py, the state, config.json, data.json). */
  pytorchRun?: string;
}

/** Where D goes beside G's file: `g.onnx` -> `g.discriminator.onnx`. */
export function discriminatorPath(path: string): string {
  const ext = extname(path);
  return join(dirname(path), `${basename(path, ext)}.discriminator${ext}`);
}

/** A new file's path must name a file in a directory that exists: one line naming what is wrong. */
export function checkOutput(flag: string, path: string, checkpoint: string): void {
  if (resolve(path) === resolve(checkpoint))
    throw new ConfigError(`${flag} ${path} is the checkpoint itself; write to another file.`);
  if (existsSync(path) && statSync(path).isDirectory())
    throw new ConfigError(`${flag} ${path} is a directory; give a file name.`);
  const dir = dirname(resolve(path));
  if (!existsSync(dir)) throw new ConfigError(`${flag} ${path}: directory ${dirname(path)} does not exist.`);
  if (!statSync(dir).isDirectory()) throw new ConfigError(`${flag} ${path}: ${dirname(path)} is not a directory.`);
}

interface Output {
  flag: string;
  path: string;
  format: 'onnx' | 'pytorch';
  network: Player;
}

export function exportModel(flags: ExportFlags): Record<string, unknown> {
  if (!flags.checkpoint) throw new ConfigError("--checkpoint FILE is needed (a run's checkpoint.safetensors).");
  if (!flags.weights && !flags.onnx && !flags.pytorch)
    throw new ConfigError('--weights OUT, --onnx OUT, --pytorch OUT or --pytorch-run DIR is needed: what to write.');
  if (flags.discriminator && !flags.onnx && !flags.pytorch)
    throw new ConfigError('--discriminator goes with --onnx or --pytorch (--weights always holds D).');
  if (flags.generatorOnly && !flags.weights)
    throw new ConfigError('--generator-only goes with --weights OUT: it leaves D out of the weights file.');
  const outputs: Output[] = [];
  for (const format of ['onnx', 'pytorch'] as const) {
    const path = flags[format];
    if (!path) continue;
    outputs.push({ flag: `--${format}`, path, format, network: 'generator' });
    if (flags.discriminator)
      outputs.push({ flag: `--${format} (D's file)`, path: discriminatorPath(path), format, network: 'discriminator' });
  }
  const paths = [...(flags.weights ? [flags.weights] : []), ...outputs.map((o) => o.path)];
  const twice = paths.find((p, i) => paths.findIndex((q) => resolve(q) === resolve(p)) !== i);
  if (twice) throw new ConfigError(`${twice} is named for two outputs; give each its own file.`);
  if (flags.weights && resolve(flags.weights) === resolve(flags.checkpoint))
    throw new ConfigError(`--weights ${flags.weights} is the checkpoint itself; write the weights to another file.`);
  if (flags.weights && existsSync(flags.weights) && statSync(flags.weights).isDirectory())
    throw new ConfigError(`--weights ${flags.weights} is a directory; give a file name.`);

  const state = decodeCheckpoint(readCheckpointFile(flags.checkpoint), flags.checkpoint, networkSpecs);
  // Every path is checked before anything is written, so a bad one leaves no half of an export.
  for (const o of outputs) checkOutput(o.flag, o.path, flags.checkpoint);

  const report: Record<string, unknown> = {
    checkpoint: flags.checkpoint,
    iteration: state.iteration,
    preset: state.config.preset,
    moving_average: !!state.generator.average,
  };
  const files: { path: string; format: string; network?: Player; bytes: number }[] = [];
  if (flags.weights) {
    const bytes = encodeCheckpoint(state, networkSpecs(state.config), {
      weightsOnly: true,
      generatorOnly: !!flags.generatorOnly,
    });
    mkdirSync(dirname(flags.weights), { recursive: true });
    writeFileAtomic(flags.weights, bytes);
    Object.assign(report, {
      weights: flags.weights,
      bytes: bytes.length,
      discriminator: !(flags.generatorOnly || state.generatorOnly),
    });
    files.push({ path: flags.weights, format: 'weights', bytes: bytes.length });
  }
  const choice = { rawGenerator: flags.rawGenerator };
  for (const o of outputs) {
    const bytes =
      o.format === 'onnx' ? checkpointToOnnx(state, o.network, choice) : checkpointToPytorch(state, o.network, choice);
    writeFileAtomic(o.path, bytes);
    files.push({ path: o.path, format: o.format, network: o.network, bytes: bytes.length });
  }
  if (outputs.length > 0) report.generator = state.generator.average && !flags.rawGenerator ? 'average' : 'raw';
  if (flags.onnx)
    report.onnx = {
      generator: flags.onnx,
      ...(flags.discriminator && { discriminator: discriminatorPath(flags.onnx) }),
      opset: ONNX_OPSET,
    };
  if (flags.pytorch)
    report.pytorch = {
      generator: flags.pytorch,
      ...(flags.discriminator && { discriminator: discriminatorPath(flags.pytorch) }),
    };
  report.files = files;
  return report;
}

/** --pytorch-run: a run to continue, not a model to take elsewhere, so it stands alone. */
async function exportRun(flags: ExportFlags & { pytorchRun: string }): Promise<Record<string, unknown>> {
  if (!flags.checkpoint) throw new ConfigError("--checkpoint FILE is needed (a run's checkpoint.safetensors).");
  const other = (['weights', 'onnx', 'pytorch', 'discriminator', 'generatorOnly', 'rawGenerator'] as const).find(
    (f) => flags[f],
  );
  if (other)
    throw new ConfigError(
      `--pytorch-run goes alone: export ${other === 'generatorOnly' ? '--generator-only' : other === 'rawGenerator' ? '--raw-generator' : `--${other}`} in another command.`,
    );
  const state = decodeCheckpoint(readCheckpointFile(flags.checkpoint), flags.checkpoint, networkSpecs);
  const written = await exportPytorchRun(state, flags.checkpoint, flags.pytorchRun);
  return {
    checkpoint: flags.checkpoint,
    preset: state.config.preset,
    ...written,
    continue: `/usr/bin/python3 -m torch.distributed.run --nproc_per_node 2 --redirects 2 --tee 2 ${join(flags.pytorchRun, 'train.py')} --iters N`,
  };
}

export async function runExportCommand(flags: ExportFlags): Promise<void> {
  const report = flags.pytorchRun ? await exportRun({ ...flags, pytorchRun: flags.pytorchRun }) : exportModel(flags);
  console.log(JSON.stringify(report, null, 2));
}
