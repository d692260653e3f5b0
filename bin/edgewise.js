#!/usr/bin/env node
// `npx edgewise …` from the repo: run the TypeScript CLI through tsx (no build step needed).
import { register } from 'tsx/esm/api';

register();
await import('../main/cli/index.ts');
