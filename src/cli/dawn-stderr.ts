// Dawn prints two lines when it discovers a Vulkan adapter that offers more dynamic buffers per
// pipeline layout than its fixed cap of 16 (lavapipe offers 1,000,000):
//   Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 ...
// They come from PhysicalDeviceBase::Initialize -> NormalizeLimits, which runs for every adapter
// Dawn enumerates, before any limit is requested, and writes with fprintf(stderr): no toggle,
// create() option or logging callback reaches it, and nothing this program asks for causes it.
// The project binds no dynamic buffers, so the lines only alarm a user. Node cannot point its own
// file descriptor 2 elsewhere for the duration of one call, so the command runs in a child process
// whose stderr passes through a filter that drops exactly these two lines and forwards everything
// else as it arrives. The parent keeps the terminal's signals, exit status and width.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

const CHILD_MARK = 'GAN_DAWN_STDERR_FILTERED';
const COLUMNS = 'GAN_STDERR_COLUMNS';
const WARNING =
  /^Warning: maxDynamic(?:Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.\r?$/;
const WARNING_START = 'Warning: maxDynamic';

/** Forwards text as it comes, less Dawn's two limit warnings; a partial line is held back only while it could still become one. */
export class DawnWarningFilter {
  private pending = '';

  constructor(private readonly forward: (text: string) => void) {}

  push(chunk: string): void {
    const text = this.pending + chunk;
    this.pending = '';
    let out = '';
    let start = 0;
    for (let end = text.indexOf('\n'); end >= 0; start = end + 1, end = text.indexOf('\n', start)) {
      const line = text.slice(start, end);
      if (!WARNING.test(line)) out += `${line}\n`;
    }
    const rest = text.slice(start);
    if (rest !== '' && (WARNING_START.startsWith(rest) || rest.startsWith(WARNING_START))) this.pending = rest;
    else out += rest;
    if (out) this.forward(out);
  }

  end(): void {
    if (this.pending && !WARNING.test(this.pending)) this.forward(this.pending);
    this.pending = '';
  }
}

/**
 * In the parent: runs this same command line as a child with its stderr filtered, and exits with
 * the child's status; never returns. In the child: returns at once.
 */
export async function runWithDawnWarningsFiltered(): Promise<void> {
  if (process.env[CHILD_MARK]) {
    becomeFilteredChild();
    return;
  }
  const env: NodeJS.ProcessEnv = { ...process.env, [CHILD_MARK]: String(process.pid) };
  if (process.stderr.isTTY) env[COLUMNS] = String(process.stderr.columns || 80);
  // Its own process group: a Ctrl-C on the terminal reaches the parent alone, which passes it on
  // once (the trainer saves a checkpoint on the first SIGINT and would die on a second).
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'pipe'],
    env,
    detached: true,
  });
  const forwarded = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of forwarded) process.on(signal, () => child.kill(signal));
  // Ctrl-Z stops the terminal's process group, which the child is not in: without this the
  // parent would stop and the child train on until its stderr pipe filled. So a stop of the parent
  // stops the child first, and the parent then stops itself as the terminal asked (a handler
  // replaces the default stop); `fg` or `kill -CONT` continues the parent, which continues the child.
  process.on('SIGTSTP', () => {
    child.kill('SIGSTOP');
    process.kill(process.pid, 'SIGSTOP');
  });
  process.on('SIGCONT', () => child.kill('SIGCONT'));
  const filter = new DawnWarningFilter((text) => process.stderr.write(text));
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => filter.push(chunk));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.on('error', (err) => {
      process.stderr.write(`gan: cannot start the command: ${err.message}\n`);
      resolve([1, null]);
    });
    child.on('close', (c, s) => resolve([c, s]));
  });
  filter.end();
  process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0));
}

function becomeFilteredChild(): void {
  // The parent's stderr is the terminal, ours the pipe to it: keep the progress bar.
  const columns = Number(process.env[COLUMNS]);
  if (columns > 0) Object.assign(process.stderr, { isTTY: true, columns });
  // A parent killed outright (SIGKILL) cannot pass the signal on; the command dies with it
  // rather than go on writing into the output directory behind the user's back.
  const parent = Number(process.env[CHILD_MARK]);
  const watch = setInterval(() => {
    if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL');
  }, 100);
  watch.unref();
}
