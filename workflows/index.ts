/**
 * Workflow definitions, bundled for the worker's sandbox. Nothing here does I/O: activities
 * do, and are imported as types only.
 */
export { ingestCatalog, progressQuery } from './ingest-catalog';
export { indexRebuild, rebuildStatusQuery, requestRebuildSignal } from './index-rebuild';
export { syncSource } from './sync-source';
