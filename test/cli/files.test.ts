// What the commands say when the file system refuses them: one line naming the path and the reason,
// exit 1, no stack trace, and nothing already saved lost. Also that Dawn's adapter-limit warnings
// never reach the user's stderr, while everything else written there does.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensors } from '../../src/io/safetensors';
import { writeFileAtomic } from '../../src/io/checkpoint';
import { fileSystemErrorLine } from '../../src/cli/fs-errors';
import { DawnWarningFilter } from '../../src/cli/dawn-stderr';

const root = new URL('../..', import.meta.url).pathname;
const DAWN_WARNINGS = ['Uniform', 'Storage'].map(
  (kind) =>
    `Warning: maxDynamic${kind}BuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.\n`,
);

function gan(...args: string[]) {
  // The shipped GEMM tiles: the tuner's line (test/kernels/tune.test.ts) would stand beside the output these tests read.
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/gan.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, GAN_TUNE: 'off' },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function expectOneLine(args: string[], line: RegExp) {
  const run = gan(...args);
  assert.equal(run.status, 1, `${args.join(' ')} should fail`);
  assert.match(run.stderr, line);
  assert.equal(run.stderr.trimEnd().split('\n').length, 1, `one line, no stack trace: ${run.stderr}`);
}

test("gan info prints its JSON with nothing on stderr: Dawn's adapter-limit warnings are filtered out", () => {
  const run = gan('info');
  assert.equal(run.status, 0, run.stderr);
  assert.ok(JSON.parse(run.stdout).adapter, 'the adapter is named');
  assert.equal(run.stderr, '');
});

test("the stderr filter drops exactly Dawn's two warnings, however the text is split, and forwards the rest as it comes", () => {
  const text = `${DAWN_WARNINGS[0]}gan: a real error\n${DAWN_WARNINGS[1]}Warning: something else\n\r 40% progress`;
  for (const size of [1, 7, 64, text.length]) {
    const seen: string[] = [];
    const filter = new DawnWarningFilter((t) => seen.push(t));
    for (let i = 0; i < text.length; i += size) filter.push(text.slice(i, i + size));
    assert.ok(
      seen.join('').endsWith('\r 40% progress'),
      `a partial line that cannot be a warning is not held back (chunks of ${size})`,
    );
    filter.end();
    assert.equal(seen.join(''), 'gan: a real error\nWarning: something else\n\r 40% progress', `chunks of ${size}`);
  }
  const held: string[] = [];
  const filter = new DawnWarningFilter((t) => held.push(t));
  filter.push('Warning: maxDyn');
  assert.deepEqual(held, [], 'the start of a warning waits for its end');
  filter.push('amicStorage... something Dawn did not write before\n');
  assert.deepEqual(
    held,
    ['Warning: maxDynamicStorage... something Dawn did not write before\n'],
    'a line that turns out different is forwarded',
  );
});

test('paths that are files where directories are needed, and the reverse, are one line naming the path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gan-paths-'));
  const file = join(dir, 'a-file');
  writeFileSync(file, 'not a directory');
  const toy = ['train', '--preset', 'toy-1d', '--iters', '5'];
  expectOneLine(
    [...toy, '--out', file],
    new RegExp(`^gan: ${file}: cannot create the directory \\(a file is in the way\\)\\.\\n$`),
  );
  expectOneLine(
    [...toy, '--out', join(file, 'run')],
    new RegExp(
      `^gan: ${file}/run: cannot create the directory \\(a part of the path is a file where a directory is needed\\)\\.\\n$`,
    ),
  );
  expectOneLine(
    ['train', '--preset', 'small-mnist', '--iters', '1', '--data', file, '--out', join(dir, 'run')],
    new RegExp(`^gan: ${file}: a file, not a directory; --data names the directory that holds train-images-idx3-ubyte`),
  );
  expectOneLine(['train', '--resume', dir], new RegExp(`^gan: ${dir}: is a directory; give the checkpoint file in it`));
  expectOneLine(
    ['eval', '--checkpoint', dir, '--interpolate'],
    new RegExp(`^gan: ${dir}: is a directory; give the checkpoint file in it`),
  );
});

test('a directory the command may not write is one line naming it, for root too', () => {
  // sysfs refuses new entries to every user, root included (chmod would not stop root): a new
  // directory under /sys is EPERM, a new file in an existing /sys directory EACCES.
  const toy = ['train', '--preset', 'toy-1d', '--iters', '5'];
  expectOneLine(
    [...toy, '--out', '/sys/gan-run'],
    /^gan: \/sys\/gan-run: cannot create the directory \(operation not permitted\)\.\n$/,
  );
  expectOneLine(
    [...toy, '--out', '/sys/kernel'],
    /^gan: \/sys\/kernel\/config\.json: cannot open \(permission denied\)\. No checkpoint had been written yet\.\n$/,
  );
});

test('a full disk mid-run is one line naming the file, and the last checkpoint stays whole and is named', () => {
  const out = mkdtempSync(join(tmpdir(), 'gan-full-'));
  // /dev/full answers every write with ENOSPC: the run's samples at iteration 10 land there, after its checkpoint at 5.
  symlinkSync('/dev/full', join(out, 'samples-10.png'));
  const checkpoint = join(out, 'checkpoint.safetensors');
  expectOneLine(
    [
      'train',
      '--preset',
      'toy-1d',
      '--iters',
      '10',
      '--log-every',
      '5',
      '--checkpoint-every',
      '5',
      '--sample-every',
      '10',
      '--out',
      out,
    ],
    new RegExp(
      `^gan: ${out}/samples-10\\.png: cannot write \\(no space left on the device\\)\\. The last good checkpoint, ${checkpoint} \\(iteration 5\\), is intact: free the space or fix the directory, then continue with --resume ${checkpoint}\\.\\n$`,
    ),
  );
  assert.equal(decodeSafetensors(readFileSync(checkpoint), checkpoint).metadata.iteration, '5');
});

test('errno codes map to one line each, with the path the error carries or the one given', () => {
  const error = (code: string, syscall: string, path?: string) =>
    Object.assign(new Error(`${code}: raw`), { code, syscall, ...(path ? { path } : {}) });
  assert.equal(
    fileSystemErrorLine(error('ENOSPC', 'write'), '/data/run/metrics.jsonl'),
    '/data/run/metrics.jsonl: cannot write (no space left on the device).',
  );
  assert.equal(
    fileSystemErrorLine(error('EDQUOT', 'write', '/home/u/run/x.png')),
    '/home/u/run/x.png: cannot write (the disk quota is used up).',
  );
  assert.equal(
    fileSystemErrorLine(error('EROFS', 'mkdir', '/mnt/ro/run')),
    '/mnt/ro/run: cannot create the directory (the file system is read-only).',
  );
  assert.equal(
    fileSystemErrorLine(error('EISDIR', 'read'), '/tmp/dir'),
    '/tmp/dir: cannot read (it is a directory where a file is needed).',
  );
  const rename = Object.assign(error('EACCES', 'rename', '/r/checkpoint.safetensors.tmp-1'), {
    dest: '/r/checkpoint.safetensors',
  });
  assert.equal(fileSystemErrorLine(rename), '/r/checkpoint.safetensors: cannot replace (permission denied).');
  assert.equal(fileSystemErrorLine(error('EWHATEVER', 'open', '/x')), '/x: cannot open (EWHATEVER).');
  assert.equal(fileSystemErrorLine(new Error('not a file-system error')), undefined);
});

test('a checkpoint write that fails leaves the previous checkpoint whole and no temporary behind', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gan-atomic-'));
  const path = join(dir, 'checkpoint.safetensors');
  writeFileAtomic(path, new Uint8Array([1, 2, 3]));
  // The temporary this process would write goes to /dev/full instead: the write fails with ENOSPC.
  symlinkSync('/dev/full', `${path}.tmp-${process.pid}`);
  assert.throws(
    () => writeFileAtomic(path, new Uint8Array(4096).fill(7)),
    (err: NodeJS.ErrnoException) => err.code === 'ENOSPC' && err.path === path,
  );
  assert.deepEqual([...readFileSync(path)], [1, 2, 3]);
  assert.deepEqual(readdirSync(dir), ['checkpoint.safetensors']);
});
