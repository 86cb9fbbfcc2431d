// The browser's half of '#tune-store' (src/kernels/tune.ts): the tuner's choices in IndexedDB
// (database webgpu-gan, store tiles, one record per adapter), GAN_TUNE from the page's URL
// (?tune=off|fresh|NAME) or globalThis.GAN_TUNE, and the tuner's line on the console.
import type { TuneRecord, TuneStore } from './tune-store';

const DATABASE = 'webgpu-gan';
const STORE = 'tiles';

function open(): Promise<IDBDatabase | undefined> {
  const factory = globalThis.indexedDB;
  if (!factory) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const request = factory.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    // Private windows and pages without storage get no cache: tuning then happens again next time.
    request.onerror = () => resolve(undefined);
    request.onblocked = () => resolve(undefined);
  });
}

function settle<T>(request: IDBRequest<T>): Promise<T | undefined> {
  return new Promise((resolve) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => resolve(undefined);
  });
}

export function platformTuneStore(): TuneStore {
  let database: Promise<IDBDatabase | undefined> | undefined;
  const db = () => (database ??= open());
  return {
    where: `IndexedDB ${DATABASE}/${STORE}`,
    async load(adapter, hash) {
      const handle = await db();
      if (!handle) return undefined;
      try {
        return (await settle(handle.transaction(STORE, 'readonly').objectStore(STORE).get(`${adapter} ${hash}`))) as
          TuneRecord | undefined;
      } catch {
        return undefined;
      }
    },
    async save(adapter, hash, record) {
      const handle = await db();
      if (!handle) return false;
      try {
        const transaction = handle.transaction(STORE, 'readwrite');
        transaction.objectStore(STORE).put(record, `${adapter} ${hash}`);
        return await new Promise<boolean>((resolve) => {
          transaction.oncomplete = () => resolve(true);
          transaction.onerror = () => resolve(false);
          transaction.onabort = () => resolve(false);
        });
      } catch {
        return false;
      }
    },
  };
}

/** Where the tuning mode comes from, as errors name it: the page's ?tune= (or a GAN_TUNE global). */
export const TUNE_SETTING = '?tune';

export function tuneModeFromEnvironment(): string | undefined {
  const fromPage = (globalThis as { GAN_TUNE?: unknown }).GAN_TUNE;
  if (typeof fromPage === 'string') return fromPage;
  const search = globalThis.location?.search;
  return search ? (new URLSearchParams(search).get('tune') ?? undefined) : undefined;
}

export function tuneLog(line: string): void {
  console.info(line);
}

/** A page does not exit; the line waits for its quiet moment. */
export function tuneAtExit(_flush: () => void): void {}

/** A page has no per-thread CPU time: the tuner times by the wall clock. */
export function tuneCpuClock(): (() => number) | undefined {
  return undefined;
}
