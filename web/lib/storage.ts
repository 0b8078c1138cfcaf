// Where `lm.save(name)` puts models and `TinyLM.load(name)` finds them: IndexedDB in browsers (here), a directory
// in Node (storage_node.ts). Both writes are atomic — a reader sees the old model or the new one, never half of one:
//   Node:       the bytes go to a temporary file in the same directory, which is then renamed over the old one
//               (rename within a directory is atomic).
//   IndexedDB:  one readwrite transaction puts the whole record; a transaction commits entirely or not at all,
//               and readers in other transactions see the state before or after it.
// Names are 1–100 characters of letters, digits, '.', '_' and '-', not starting with '.', so they are safe as
// file names everywhere.
import { TinyLMError } from './errors.js';

export interface ModelStore {
  read(name: string): Promise<Uint8Array | undefined>;  // undefined when nothing is stored under the name
  write(name: string, bytes: Uint8Array): Promise<void>;
  remove(name: string): Promise<void>;
  list(): Promise<string[]>;
}

const namePattern = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/;

export function isStoredModelName(name: string): boolean {
  return namePattern.test(name);
}

export function checkStoredModelName(name: string): void {
  if (!isStoredModelName(name)) {
    throw new TinyLMError(
      'INVALID_ARGUMENT',
      `'${name}' is not a valid model name: use 1–100 letters, digits, '.', '_' or '-', not starting with '.'`,
    );
  }
}

// ---- browsers: one IndexedDB record per model ---------------------------------------------------------------

interface StoredRecord {
  name: string;
  bytes: ArrayBuffer;
  savedAt: number;  // ms since the epoch
}

export function indexedDbStore(databaseName = 'tinylm', storeName = 'models'): ModelStore {
  let database: Promise<IDBDatabase> | undefined;
  const open = () =>
    (database ??= new Promise((resolve, reject) => {
      const request = indexedDB.open(databaseName, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(storeName, { keyPath: 'name' });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    }));
  async function transact<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
    const transaction = (await open()).transaction(storeName, mode);
    const request = work(transaction.objectStore(storeName));
    // Resolve on commit, not on the request's success: only then is the write durable and visible.
    return new Promise((resolve, reject) => {
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error ?? new Error('IndexedDB transaction aborted'));
    });
  }
  return {
    async read(name) {
      checkStoredModelName(name);
      const record = (await transact('readonly', (store) => store.get(name))) as StoredRecord | undefined;
      return record ? new Uint8Array(record.bytes) : undefined;
    },
    async write(name, bytes) {
      checkStoredModelName(name);
      const record: StoredRecord = { name, bytes: bytes.slice().buffer as ArrayBuffer, savedAt: Date.now() };
      await transact('readwrite', (store) => store.put(record));
    },
    async remove(name) {
      checkStoredModelName(name);
      await transact('readwrite', (store) => store.delete(name));
    },
    async list() {
      const keys = await transact('readonly', (store) => store.getAllKeys());
      return keys.map(String).sort();
    },
  };
}
