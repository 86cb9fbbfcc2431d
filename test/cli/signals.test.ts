// The command runs in a child process of its own group (src/cli/dawn-stderr.ts), so the terminal's
// signals reach the parent alone: a Ctrl-Z (SIGTSTP) must stop the training child with it, `fg`
// (SIGCONT) continue both, and a Ctrl-C (SIGINT) still end the run with its checkpoint saved.
// The process states are read from /proc; nothing here depends on how fast the machine is.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;

/** The one-letter state of a process (R running, S sleeping, T stopped), from /proc/<pid>/stat. */
function processState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2)[0];
}

function childOf(pid: number): number | undefined {
  const listed = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return listed ? Number(listed.split(/\s+/)[0]) : undefined;
}

async function until<T>(what: string, value: () => T | undefined | false): Promise<T> {
  for (let tries = 0; tries < 600; tries++) {
    const v = value();
    if (v !== undefined && v !== false) return v;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

test(
  'Ctrl-Z stops the training child with the command, fg continues both, and Ctrl-C still saves the checkpoint',
  { skip: !existsSync('/proc/self/stat') && 'no /proc on this system' },
  async () => {
    const out = mkdtempSync(join(tmpdir(), 'gan-signals-'));
    const parent = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/gan.ts',
        'train',
        '--preset',
        'toy-2d-ring',
        '--iters',
        '1000000',
        '--log-every',
        '10',
        '--checkpoint-every',
        '1000000',
        '--out',
        out,
      ],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, GAN_TUNE: 'off' },
      },
    );
    let stdout = '';
    parent.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    parent.stderr.resume();
    const exited = new Promise<number | null>((resolve) => parent.on('exit', (code) => resolve(code)));
    const logged = () => [...stdout.matchAll(/iter (\d+)\//g)].length;
    try {
      await until('the first logged iterations', () => logged() >= 2);
      const child = await until('the training child', () => childOf(parent.pid!));

      parent.kill('SIGTSTP');
      await until('the child to stop', () => processState(child) === 'T');
      await until('the command to stop', () => processState(parent.pid!) === 'T');

      parent.kill('SIGCONT');
      await until('the child to continue', () => processState(child) !== 'T');
      const before = logged();
      await until('training to go on after the continue', () => logged() > before);
    } finally {
      parent.kill('SIGINT');
    }
    assert.equal(await exited, 0, 'Ctrl-C ends the run cleanly');
    assert.ok(existsSync(join(out, 'checkpoint.safetensors')), 'the interrupted run saved its checkpoint');
  },
);
