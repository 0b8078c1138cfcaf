// Node's model store (see storage.ts for the contract): one `<name>.safetensors` file per model in a directory.
// A write goes to a temporary file in the same directory that is then renamed over the old one, so a reader sees
// the old model or the new one, never half of one.
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkStoredModelName, isStoredModelName, type ModelStore } from './storage.js';

export function directoryStore(directory: string): ModelStore {
  const fileOf = (name: string) => {
    checkStoredModelName(name);
    return join(directory, `${name}.safetensors`);
  };
  return {
    async read(name) {
      try {
        return new Uint8Array(await readFile(fileOf(name)));
      } catch (error) {
        if ((error as { code?: string }).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async write(name, bytes) {
      const file = fileOf(name);
      await mkdir(directory, { recursive: true });
      const temporary = `${file}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`;
      try {
        await writeFile(temporary, bytes, { flush: true });
        await rename(temporary, file);
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
    },
    async remove(name) {
      await rm(fileOf(name), { force: true });
    },
    async list() {
      try {
        const entries = await readdir(directory);
        return entries
          .filter((entry) => entry.endsWith('.safetensors'))
          .map((entry) => entry.slice(0, -'.safetensors'.length))
          .filter(isStoredModelName)
          .sort();
      } catch (error) {
        if ((error as { code?: string }).code === 'ENOENT') return [];
        throw error;
      }
    },
  };
}
