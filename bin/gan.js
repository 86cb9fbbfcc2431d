#!/usr/bin/env node
// The `gan` command: runs the TypeScript sources directly through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/gan.ts');
