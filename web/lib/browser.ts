// The package's entry point for browsers and bundlers (package.json `exports`: "browser" and "default").
import { installPlatform } from './platform.js';
import { browserPlatform } from './platform_browser.js';

installPlatform(browserPlatform);

export * from './index.js';
