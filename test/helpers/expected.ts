import { readFileSync } from 'node:fs';
import { catalogFile } from './catalogs';

/**
 * Product ids each real catalog should yield, computed straight from the files without the
 * pipeline's readers or mappings, so the tests compare against an independent answer.
 */
export function expectedIds(name: string): { valid: Set<string>; invalid: Set<string> } {
  const text = readFileSync(catalogFile(name), 'utf8');
  const records: Record<string, any>[] = name.endsWith('.jsonl')
    ? text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : JSON.parse(text);
  const valid = new Set<string>();
  const invalid = new Set<string>();
  for (const r of records) {
    const id = name.startsWith('bestbuy') ? /\/(\d+)_[^/]*$/.exec(r.image)![1]! : String(r.id);
    const ok =
      !('availability' in r) ||
      ['IN_STOCK', 'OUT_OF_STOCK', 'PREORDER', 'BACKORDER'].includes(r.availability);
    (ok ? valid : invalid).add(id);
  }
  return { valid, invalid };
}
