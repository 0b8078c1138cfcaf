// The LoRA adapters the chat learned from the user, one per Hugging Face model id, kept in this browser's IndexedDB
// ('tinylm-chat-adapters'): a few hundred KB each beside a base model the browser already keeps (OPFS or the Cache
// API), so a reload downloads nothing and comes back with what was learned. One readwrite transaction per write: a
// reader sees the old adapter or the new one, never part of one.
const databaseName = 'tinylm-chat-adapters';
const storeName = 'adapters';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(databaseName, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(storeName);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run<T>(mode: IDBTransactionMode, action: (store: IDBObjectStore) => IDBRequest): Promise<T> {
  const database = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const transaction = database.transaction(storeName, mode);
      const request = action(transaction.objectStore(storeName));
      transaction.oncomplete = () => resolve(request.result as T);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  } finally {
    database.close();
  }
}

export async function readAdapter(modelId: string): Promise<Uint8Array | undefined> {
  const stored = await run<ArrayBuffer | undefined>('readonly', (store) => store.get(modelId)).catch(() => undefined);
  return stored ? new Uint8Array(stored) : undefined;
}

export function writeAdapter(modelId: string, bytes: Uint8Array): Promise<void> {
  const copy = bytes.slice().buffer;
  return run('readwrite', (store) => store.put(copy, modelId));
}

export function removeAdapter(modelId: string): Promise<void> {
  return run('readwrite', (store) => store.delete(modelId));
}
