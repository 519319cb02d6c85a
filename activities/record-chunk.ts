import { applyMapping, applyRemovalMapping, isRemoval, type Mapping } from '../src/products/mapping';
import {
  REMOVED_HASH,
  contentHash,
  describeIssues,
  toAddOperation,
  toRemoveOperation,
  validateProduct,
  validateRemoval,
} from '../src/products/product';
import type { SourceRecord } from '../src/products/readers';
import type { RejectedRecord, StagedItem } from '../src/warehouse/warehouse';

/** A NUL character as JSON writes it: `\u0000` not itself escaped (`\\u0000` is plain text). */
const ESCAPED_NUL = /(?<!\\)(?:\\\\)*\\u0000/;

/** The valid and rejected records of one chunk; a repeated id keeps its latest version. */
export class RecordChunk {
  readonly items = new Map<string, StagedItem>();
  readonly rejected: RejectedRecord[] = [];
  lastPosition = 0;
  private records = 0;

  get size(): number {
    return this.records;
  }

  add(rec: SourceRecord, mapping: Mapping): void {
    this.lastPosition = rec.position;
    this.records++;
    if ('error' in rec) {
      this.rejected.push({
        position: rec.position,
        productId: null,
        reason: rec.error,
        issues: [],
        raw: rec.raw,
      });
      return;
    }

    if (rec.record === null || typeof rec.record !== 'object' || Array.isArray(rec.record)) {
      const got =
        rec.record === null ? 'null' : Array.isArray(rec.record) ? 'an array' : typeof rec.record;
      this.rejected.push({
        position: rec.position,
        productId: null,
        reason: `record is not an object (got ${got})`,
        issues: [],
        raw: rawText(rec.record),
      });
      return;
    }
    if (isRemoval(rec.record, mapping)) {
      this.addRemoval(rec.position, rec.record, mapping);
      return;
    }
    const candidate = applyMapping(rec.record, mapping);
    const result = validateProduct(candidate);
    if (!result.ok) {
      const productId = typeof candidate.id === 'string' ? candidate.id : null;
      const reason = describeIssues(result.issues);
      this.rejected.push({
        position: rec.position,
        productId,
        reason,
        issues: result.issues,
        raw: rawText(rec.record),
      });
      return;
    }

    const operation = toAddOperation(result.product);
    if (ESCAPED_NUL.test(operation)) {
      // Postgres text cannot hold U+0000; keep the record as rejected instead of failing the file.
      const reason = 'a field contains a NUL character (U+0000), which cannot be stored';
      this.rejected.push({
        position: rec.position,
        productId: result.product.id.replace(/\u0000/g, ''),
        reason,
        issues: [],
        raw: rawText(rec.record),
      });
      return;
    }
    this.keepLatest({
      productId: result.product.id,
      removal: false,
      operation,
      contentHash: contentHash(operation),
      sourceUpdatedAt: result.product.updatedAt ?? null,
      position: rec.position,
    });
  }

  private addRemoval(position: number, record: object, mapping: Mapping): void {
    const candidate = applyRemovalMapping(record, mapping);
    const result = validateRemoval(candidate);
    if (!result.ok || result.removal.id.includes('\u0000')) {
      const issues = result.ok ? [] : result.issues;
      this.rejected.push({
        position,
        productId: typeof candidate.id === 'string' ? candidate.id : null,
        reason: `removal: ${issues.length ? describeIssues(issues) : 'the id contains a NUL character'}`,
        issues,
        raw: rawText(record),
      });
      return;
    }
    this.keepLatest({
      productId: result.removal.id,
      removal: true,
      operation: toRemoveOperation(result.removal.id),
      contentHash: REMOVED_HASH,
      sourceUpdatedAt: result.removal.updatedAt ?? null,
      position,
    });
  }

  /** A repeated id keeps its latest version; on equal times, the later record. */
  private keepLatest(item: StagedItem): void {
    const existing = this.items.get(item.productId);
    if (existing && (existing.sourceUpdatedAt ?? '') > (item.sourceUpdatedAt ?? '')) return;
    this.items.set(item.productId, item);
  }

  itemList(): StagedItem[] {
    return [...this.items.values()];
  }
}

function rawText(record: unknown): string {
  return JSON.stringify(record).slice(0, 100_000);
}
