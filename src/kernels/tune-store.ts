// What the tile tuner (tune.ts) keeps: one record of choices per adapter, the stores' interface,
// whose halves are '#tune-store' (files in Node, IndexedDB in a page), a store in memory, and the
// hash that keys the records. Types and plain code only, so the platform stores can import it
// without importing the tuner.

/** One shape's choice, as cached. */
export interface TuneChoice {
  variant: string;
  /** Hash of the offered variants' names and shader sources when it was timed. */
  sources: string;
  /** Estimated milliseconds of the whole dispatch, per variant timed. */
  ms: Record<string, number>;
}

/** An adapter's choices, by `${kernel} ${shape}`. */
export interface TuneRecord {
  adapter: string;
  choices: Record<string, TuneChoice>;
}

/** Where choices are kept: files in Node, IndexedDB in a page. `save` answers whether it could. */
export interface TuneStore {
  where: string;
  load(adapter: string, adapterHash: string): Promise<TuneRecord | undefined>;
  save(adapter: string, adapterHash: string, record: TuneRecord): Promise<boolean>;
}

/** A store in memory (tests, and pages without IndexedDB). */
export function memoryTuneStore(): TuneStore & { records: Map<string, TuneRecord> } {
  const records = new Map<string, TuneRecord>();
  return {
    where: 'memory',
    records,
    async load(adapter) {
      const record = records.get(adapter);
      return record && structuredClone(record);
    },
    async save(adapter, _hash, record) {
      records.set(adapter, structuredClone(record));
      return true;
    },
  };
}

/** A 64-bit FNV-1a of the text, as 16 hex digits: a cache key, not a defence. */
export function hashText(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    hash ^= BigInt(text.charCodeAt(i));
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, '0');
}
