// Node's half of '#tune-store' (src/kernels/tune.ts): the tuner's choices in one JSON file per
// adapter under $XDG_CACHE_HOME/webgpu-gan/tiles/ (default ~/.cache/webgpu-gan/tiles/), GAN_TUNE from
// the environment, and the tuner's line on stderr (stdout carries the commands' JSON).
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { TuneRecord, TuneStore } from './tune-store';

/** The directory of the tuner's files: $XDG_CACHE_HOME/webgpu-gan/tiles, else ~/.cache/webgpu-gan/tiles. */
export function tuneDirectory(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'webgpu-gan', 'tiles');
}

/** A file name for an adapter's name: its letters and digits, and a hash that keeps names apart which differ only elsewhere. */
export function adapterFileName(adapter: string, hash: string): string {
  const slug =
    adapter
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 60) || 'adapter';
  return `${slug}-${hash.slice(0, 8)}.json`;
}

/** Files in `directory` (default tuneDirectory()). A cache that cannot be read or written is no cache: tuning then happens again next time. */
export function platformTuneStore(directory = tuneDirectory()): TuneStore {
  return {
    where: directory,
    async load(adapter, hash) {
      try {
        return JSON.parse(readFileSync(join(directory, adapterFileName(adapter, hash)), 'utf8')) as TuneRecord;
      } catch {
        return undefined;
      }
    },
    async save(adapter, hash, record) {
      const file = join(directory, adapterFileName(adapter, hash));
      const temporary = `${file}.${process.pid}.tmp`;
      try {
        mkdirSync(directory, { recursive: true });
        writeFileSync(temporary, `${JSON.stringify(record, null, 1)}\n`);
        renameSync(temporary, file);
        return true;
      } catch {
        return false;
      }
    },
  };
}

/** Where the tuning mode comes from, as errors name it. */
export const TUNE_SETTING = 'GAN_TUNE';

/** GAN_TUNE: off, fresh, auto (the default), or a variant's name or form to run wherever it is offered. */
export function tuneModeFromEnvironment(): string | undefined {
  return process.env.GAN_TUNE;
}

export function tuneLog(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Runs `flush` when the process exits (a short command may end before the tuner's line is due). */
export function tuneAtExit(flush: () => void): void {
  // A command that failed ends on its one error line.
  process.once('exit', (code) => {
    if (code === 0) flush();
  });
}

/**
 * CPU milliseconds of every thread of this process but the main one (Linux's schedstat), for
 * timing a software adapter, whose workers are those threads: on a machine shared with other work
 * their CPU time measures the work, where the wall clock also counts the waits for a core. Undefined
 * elsewhere.
 */
export function tuneCpuClock(): (() => number) | undefined {
  const read = () => {
    let ns = 0;
    for (const task of readdirSync('/proc/self/task')) {
      if (Number(task) === process.pid) continue;
      try {
        ns += Number(readFileSync(`/proc/self/task/${task}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // A thread that ended between the listing and the read.
      }
    }
    return ns / 1e6;
  };
  try {
    return Number.isFinite(read()) ? read : undefined;
  } catch {
    return undefined;
  }
}
