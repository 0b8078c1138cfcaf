// Modules the site's Vite config provides (web/site/vite.config.ts).
declare module 'virtual:tinylm-models' {
  const index: Array<Record<string, unknown>>;  // models/index.json
  export default index;
}

declare module '*/api_snippets.mjs?highlight' {
  interface Code { code: string; language: string; html: string }  // as code_block.ts's HighlightedCode
  export interface Snippet extends Code { title: string; about: string; expected: string }
  const snippets: Snippet[];
  export const install: Code[];
  export default snippets;
}
