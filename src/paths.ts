import { resolve } from 'node:path';

/** The project root (where package.json lives). */
export const PROJECT_ROOT = resolve(__dirname, '..');
