// Job-process entry for Node's fork: the engine is TypeScript run through tsx, as in the job worker.
import { register } from 'tsx/esm/api';

register();
await import('./job-process.ts');
