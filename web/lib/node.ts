// The package's entry point for Node (package.json `exports`: "node").
import { installPlatform } from './platform.js';
import { nodePlatform } from './platform_node.js';

installPlatform(nodePlatform);

export * from './index.js';
