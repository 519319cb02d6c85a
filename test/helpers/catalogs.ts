import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT } from '../../src/stack';

/** The real catalogs, read where they are kept: beside the project, never copied into it. */
export const CATALOGS_DIR =
  process.env.CATALOGS_DIR ?? resolve(PROJECT_ROOT, '../shared/data/catalogs');

export function catalogFile(name: string): string {
  return join(CATALOGS_DIR, name);
}

export const haveRealCatalogs = existsSync(catalogFile('bestbuy_typesense_ecommerce.json'));

/** Skip reason for tests that need the real catalogs. */
export const needsCatalogs = haveRealCatalogs
  ? false
  : `real catalogs not found in ${CATALOGS_DIR}`;
