// `gan train --browser`: the run's trainer in headless Chromium's WebGPU. The page
// (examples/headless.ts) asks Node for its job, builds the same session and trainer as the Node path,
// and streams what the run produces back through functions Node exposes on the page; Node writes it
// with the same RunOutput. An error in the page comes back as the same error class, so `gan` reports
// it the same way.
import { ConfigError } from '../train/config';
import { isToyData, type TrainConfig } from '../spec/config';
import { DivergenceError } from '../train/trainer';
import { DeviceLimitError, GpuUnavailableError } from '../gpu/device';
import { ShaderCompileError } from '../gpu/shaders';
import { DataFileError } from '../data/idx';
import { loadMnist, packagedMnistDir } from '../data/mnist-files-node';
import { CheckpointError } from '../io/safetensors';
import { base64ToBytes, bytesToBase64, sampleBatchFromWire, type HeadlessJob, type HeadlessReport } from '../io/wire';
import { browserLaunchOptions, withBrowser } from './browser';
import type { RunOutput } from './run-output';

const errorClasses: Record<string, new (message: string) => Error> = {
  ConfigError,
  DivergenceError,
  DeviceLimitError,
  GpuUnavailableError,
  ShaderCompileError,
  DataFileError,
  CheckpointError,
};

function pageError(report: { name: string; message: string }, browser: string): Error {
  const ErrorClass = errorClasses[report.name];
  if (report.name === 'GpuUnavailableError') return new GpuUnavailableError(`Headless ${browser}: ${report.message}`);
  return ErrorClass ? new ErrorClass(report.message) : new Error(`${report.name} in the page: ${report.message}`);
}

export interface BrowserRunOptions {
  /** The checkpoint to continue from (already decoded once by Node, so its errors name the file). */
  resume?: { bytes: Uint8Array; file: string };
  /** Sample batches from G itself instead of its moving average. */
  rawGenerator?: boolean;
  stop: AbortSignal;
}

export async function trainInBrowser(
  config: TrainConfig,
  output: RunOutput,
  options: BrowserRunOptions,
): Promise<{ iteration: number; stopped: boolean }> {
  // The headless page fetches MNIST's files from the loopback server; other image data trains in Node.
  if (config.data !== 'mnist' && !isToyData(config.data))
    throw new ConfigError(
      `--browser trains on MNIST and the toys; '${config.data}' data trains in Node (leave out --browser).`,
    );
  const mnistDir = config.dataDir || packagedMnistDir();
  // The page fetches MNIST by URL; reading it here first makes a bad file's error name its path.
  if (config.data === 'mnist') loadMnist(mnistDir);
  const launch = browserLaunchOptions();
  const browserName = launch.executablePath ?? 'Chrome';
  return withBrowser(mnistDir, async (browser, site) => {
    const page = await browser.newPage();
    const job: HeadlessJob = {
      config,
      rawGenerator: options.rawGenerator,
      resume: options.resume && { checkpoint: bytesToBase64(options.resume.bytes), file: options.resume.file },
    };
    let settle!: { resolve: (result: { iteration: number; stopped: boolean }) => void; reject: (err: Error) => void };
    const finished = new Promise<{ iteration: number; stopped: boolean }>(
      (resolve, reject) => (settle = { resolve, reject }),
    );
    const report: HeadlessReport = {
      ganJob: async () => job,
      ganBegin: async (iteration, adapterName, resumed) => output.begin(iteration, adapterName, resumed),
      ganSamples: async (batch) => output.samples(sampleBatchFromWire(batch)),
      ganMetrics: async (record) => output.metrics(record),
      ganWindow: async (iteration) => output.window(iteration),
      ganCheckpoint: async (checkpoint, iteration) => output.checkpoint(base64ToBytes(checkpoint), iteration),
      ganEnd: async (iteration, stopped) => settle.resolve({ iteration, stopped }),
      ganFail: async (error) => settle.reject(pageError(error, browserName)),
    };
    for (const [name, fn] of Object.entries(report)) await page.exposeFunction(name, fn);
    page.on('pageerror', (err) => settle.reject(new Error(`Uncaught error in the page: ${err.message}`)));
    page.on('crash', () => settle.reject(new Error(`${browserName} crashed while training.`)));
    page.on('console', (message) => {
      if (message.type() === 'error') console.error(`browser: ${message.text()}`);
    });
    const onStop = () =>
      void page.evaluate(() => (window as unknown as { ganStop?: () => void }).ganStop?.()).catch(() => {});
    options.stop.addEventListener('abort', onStop);
    try {
      await page.goto(new URL('headless.html', site.url).href);
      return await finished;
    } finally {
      options.stop.removeEventListener('abort', onStop);
    }
  });
}
