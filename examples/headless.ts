// The page `gan train --browser` drives: the same session, trainer and run as `gan train` in Node,
// with everything the run produces sent to Node (headless-protocol.ts), which writes the files.
import { decodeCheckpoint } from '../src/io/checkpoint-format';
import { sampleBatchToWire, bytesToBase64, base64ToBytes, type HeadlessReport } from '../src/io/wire';
import { configFromJson } from '../src/train/config';
import { runToEnd, type RunSink } from '../src/io/run';
import { createSession, networkSpecs } from '../src/train/session';
import { MNIST_URL } from '../src/data/mnist-files-browser';

const node = window as unknown as HeadlessReport & { ganStop?: () => void };
const status = document.querySelector<HTMLParagraphElement>('#status')!;

async function main(): Promise<void> {
  let stopRequested = false;
  node.ganStop = () => void (stopRequested = true);
  const job = await node.ganJob();
  const config = configFromJson(job.config, "the run's config");
  status.textContent = `Training ${config.preset}`;
  // The run's dataDir is a path on the machine that serves this page, which serves that directory at
  // data/mnist/; Fashion-MNIST's files are served at data/fashion-mnist/, where its loader looks by default.
  const session = await createSession(config, config.data === 'mnist' ? { mnistFrom: MNIST_URL } : {});
  const { trainer } = session;
  if (job.resume)
    await trainer.loadState(decodeCheckpoint(base64ToBytes(job.resume.checkpoint), job.resume.file, networkSpecs));
  if (job.rawGenerator) trainer.show('raw');
  await node.ganBegin(trainer.iteration, `${session.context.adapterName} (headless Chromium)`, !!job.resume);
  const sink: RunSink = {
    samples: (batch) => node.ganSamples(sampleBatchToWire(batch)),
    metrics: (record) => node.ganMetrics(record),
    window: (iteration, itsPerSecond) => void node.ganWindow(iteration, itsPerSecond),
    checkpoint: (bytes, iteration) => node.ganCheckpoint(bytesToBase64(bytes), iteration),
  };
  const { stopped } = await runToEnd(trainer, sink, () => stopRequested);
  status.textContent = `${stopped ? 'Stopped' : 'Done'} at iteration ${trainer.iteration}`;
  await node.ganEnd(trainer.iteration, stopped);
}

main().catch((err: Error) => node.ganFail({ name: err.name, message: err.message }));
