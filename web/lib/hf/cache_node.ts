// Node's checkpoint file cache (see cache.ts): one file per URL in `directory`, named by the URL's SHA-256. Written
// to a temporary name and renamed, so a reader never sees half a file.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileCache } from './cache.js';

export function directoryFileCache(directory: string): FileCache {
  const fileOf = (url: string) => join(directory, createHash('sha256').update(url).digest('hex'));
  return {
    async read(url) {
      try {
        return new Uint8Array(await readFile(fileOf(url)));
      } catch (error) {
        if ((error as { code?: string }).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async write(url, bytes) {
      const file = fileOf(url);
      await mkdir(directory, { recursive: true });
      const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      try {
        await writeFile(temporary, bytes);
        await rename(temporary, file);
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
    },
  };
}
