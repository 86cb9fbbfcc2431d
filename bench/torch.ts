// PyTorch as a peer: finds a python3 that can import torch, describes our model to bench/torch_gan.py
// and runs that script as a server whose repetitions the bench interleaves with its own.
//
// Which python: `python3` on PATH first, then Debian's own /usr/bin/python3, where Debian's
// python3-torch installs (a pyenv or venv python3 first on PATH often lacks torch). Threads: as many
// as the machine has cores, through OMP_NUM_THREADS and torch.set_num_threads, since Debian's torch
// 1.13 otherwise takes one thread on a 2-core machine.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dataFeatures, type TrainConfig } from '../src/spec/config';

export const TORCH_SCRIPT = fileURLToPath(new URL('./torch_gan.py', import.meta.url));

/** The pythons tried, in order. */
export const PYTHON_CANDIDATES = ['python3', '/usr/bin/python3'];

export interface TorchPython {
  /** The command run (as tried) and the interpreter it is (sys.executable). */
  command: string;
  executable: string;
  torch: string;
  cuda: boolean;
}

/** The first candidate that imports torch, or one line saying what each lacked. */
export function findTorchPython(candidates = PYTHON_CANDIDATES): TorchPython | { skipped: string } {
  const failures: string[] = [];
  for (const command of candidates) {
    const probe = spawnSync(
      command,
      [
        '-c',
        'import sys, torch; print(sys.executable); print(torch.__version__); print(int(torch.cuda.is_available()))',
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    if (probe.status === 0) {
      const [executable, torch, cuda] = probe.stdout.trim().split('\n');
      return { command, executable, torch, cuda: cuda === '1' };
    }
    const why = probe.error
      ? ((probe.error as NodeJS.ErrnoException).code ?? probe.error.message)
      : (probe.stderr.trim().split('\n').pop() ?? `exit status ${probe.status}`);
    failures.push(`${command}: ${why}`);
  }
  return { skipped: `no python3 with torch (${failures.join('; ')})` };
}

/** Threads for torch: the machine's cores. */
export function torchThreads(): number {
  return availableParallelism();
}

/** Our model and step, as bench/torch_gan.py reads them (--model). */
export function torchModel(config: TrainConfig): Record<string, unknown> {
  const { optimizer } = config;
  return {
    batch: config.batch,
    features: dataFeatures(config),
    noise: config.noise,
    generator: config.generator.layers,
    discriminator: config.discriminator.layers,
    optimizer: {
      kind: optimizer.kind,
      lr: optimizer.lr,
      momentum: optimizer.momentumStart,
      beta1: optimizer.beta1,
      beta2: optimizer.beta2,
      epsilon: optimizer.epsilon,
      generator_lr_scale: optimizer.generatorLrScale,
    },
    g_loss: config.gLoss,
    real_target: config.realTarget,
    k: config.k,
    ema_decay: config.emaDecay,
  };
}

export interface TorchAbout {
  torch: string;
  threads: number;
  python: string;
  device: string;
}

function torchEnv(threads: number): NodeJS.ProcessEnv {
  const n = String(threads);
  return { ...process.env, OMP_NUM_THREADS: n, MKL_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n };
}

/** torch_gan.py --serve: one warm process per model, asked for one repetition at a time. */
export class TorchPeer {
  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly lines: AsyncIterator<string>,
    private readonly reader: Interface,
    readonly about: TorchAbout,
  ) {}

  static async start(
    python: TorchPython,
    config: TrainConfig,
    options: { threads?: number; device?: 'cpu' | 'cuda' } = {},
  ): Promise<TorchPeer | { skipped: string }> {
    const threads = options.threads ?? torchThreads();
    const args = [
      TORCH_SCRIPT,
      '--serve',
      '--threads',
      String(threads),
      '--device',
      options.device ?? 'cpu',
      '--model',
      JSON.stringify(torchModel(config)),
    ];
    const child = spawn(python.command, args, { env: torchEnv(threads), stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    const reader = createInterface({ input: child.stdout });
    const lines = reader[Symbol.asyncIterator]();
    const first = await lines.next();
    const failed = (what: string) => {
      child.kill();
      return { skipped: `bench/torch_gan.py ${what}: ${stderr.trim().split('\n').pop() ?? ''}`.trim() };
    };
    if (first.done) return failed('exited before it was ready');
    let ready: Record<string, unknown>;
    try {
      ready = JSON.parse(first.value) as Record<string, unknown>;
    } catch {
      return failed(`printed '${first.value}'`);
    }
    if (typeof ready.skipped === 'string') {
      child.kill();
      return { skipped: ready.skipped };
    }
    const about = {
      torch: String(ready.torch),
      threads: Number(ready.threads),
      python: String(ready.python),
      device: String(ready.device),
    };
    return new TorchPeer(child, lines, reader, about);
  }

  /** Iterations per second of one repetition of `iterations` iterations. */
  async repetition(iterations: number): Promise<number> {
    this.child.stdin.write(`run ${iterations}\n`);
    const line = await this.lines.next();
    if (line.done) throw new Error('bench/torch_gan.py exited during a repetition');
    return (JSON.parse(line.value) as { its_per_s: number }).its_per_s;
  }

  close(): void {
    this.child.stdin.end('quit\n');
    this.reader.close();
  }
}
