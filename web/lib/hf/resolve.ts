// Where a Hugging Face checkpoint's files come from (see hf/load.ts for the whole flow):
//   'hf:owner/name'            the Hub: `${hubHost}/${owner}/${name}/resolve/${revision}/${file}`
//   'hf:owner/name@revision'   the same at a branch, tag or commit (a commit pins the files the cache holds)
//   { baseUrl }                any folder served over HTTP(S) (or file: in Node): `${baseUrl}/${file}`
// hubHost defaults to https://huggingface.co and revision to main; both are set per call (load options) or for
// every later call (TinyLM.configure). A folder's files are named as the Hub names them (config.json,
// model.safetensors, …), so a mirror or a local server in the Hub's layout works by pointing hubHost at it.
import { TinyLMError } from '../errors.js';

export const DEFAULT_HUB_HOST = 'https://huggingface.co';
export const DEFAULT_REVISION = 'main';

let configuredHubHost: string | undefined;
let configuredRevision: string | undefined;

export function setHubDefaults(hubHost: string | undefined, revision: string | undefined): void {
  if (hubHost !== undefined) configuredHubHost = checkedHubHost(hubHost);
  if (revision !== undefined) configuredRevision = checkedRevision(revision);
}

export interface RemoteFolder {
  label: string;                  // how messages and info.source name it: 'hf:owner/name@rev' or the base URL
  fileUrl(name: string): string;  // the file's absolute URL
}

const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function isHubId(source: unknown): source is string {
  return typeof source === 'string' && source.startsWith('hf:');
}

// 'hf:owner/name[@revision]' → the folder on the Hub (or the configured host).
export function hubFolder(source: string, options: { hubHost?: string; revision?: string }): RemoteFolder {
  const spec = source.slice('hf:'.length);
  const at = spec.indexOf('@');
  const repo = at < 0 ? spec : spec.slice(0, at);
  if (!REPO_ID.test(repo)) {
    throw new TinyLMError('INVALID_ARGUMENT', `'${source}' is not a Hugging Face model id: write 'hf:owner/name', ` +
      "e.g. 'hf:HuggingFaceTB/SmolLM2-135M-Instruct' (optionally '@revision')");
  }
  const revision = at < 0 ? checkedRevision(options.revision ?? configuredRevision ?? DEFAULT_REVISION) : checkedRevision(spec.slice(at + 1));
  const host = options.hubHost === undefined ? configuredHubHost ?? DEFAULT_HUB_HOST : checkedHubHost(options.hubHost);
  const base = `${host}/${repo}/resolve/${encodeURIComponent(revision)}/`;
  return { label: `hf:${repo}@${revision}`, fileUrl: (name) => new URL(name, base).href };
}

// { baseUrl } → the folder at that URL; relative URLs resolve against the page (browsers).
export function urlFolder(baseUrl: string | { readonly href: string }): RemoteFolder {
  const text = typeof baseUrl === 'string' ? baseUrl : baseUrl?.href;
  let url: URL;
  try {
    url = new URL(String(text), (globalThis as { location?: { href: string } }).location?.href);
  } catch {
    throw new TinyLMError('INVALID_ARGUMENT', `baseUrl '${String(text)}' is not a URL: give the URL of the folder that ` +
      'holds config.json, the safetensors weights and tokenizer.json');
  }
  const base = url.href.endsWith('/') ? url.href : `${url.href}/`;
  return { label: base, fileUrl: (name) => new URL(name, base).href };
}

function checkedHubHost(host: string): string {
  let url: URL | undefined;
  try {
    url = new URL(host, (globalThis as { location?: { href: string } }).location?.href);
  } catch {
    url = undefined;
  }
  if (!url || !/^(https?|file):$/.test(url.protocol)) {
    throw new TinyLMError('INVALID_ARGUMENT', `option hubHost must be an http(s) URL such as '${DEFAULT_HUB_HOST}', got '${host}'`);
  }
  return url.href.replace(/\/+$/, '');
}

function checkedRevision(revision: string): string {
  if (typeof revision !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(revision) || revision.includes('..')) {
    throw new TinyLMError('INVALID_ARGUMENT', `option revision must be a branch, tag or commit such as 'main', got '${String(revision)}'`);
  }
  return revision;
}
