// Worker-thread entry: the engine is TypeScript run through tsx, in workers as in the CLI.
import { register } from 'tsx/esm/api';

register();
await import('./job-worker.ts');
