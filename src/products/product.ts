import { createHash } from 'node:crypto';
import { z } from 'zod';

export const AVAILABILITY = ['in_stock', 'out_of_stock', 'preorder', 'backorder'] as const;

/** Source spellings of availability, normalised before validation. */
const AVAILABILITY_ALIASES: Record<string, (typeof AVAILABILITY)[number]> = {
  in_stock: 'in_stock',
  instock: 'in_stock',
  'in stock': 'in_stock',
  available: 'in_stock',
  out_of_stock: 'out_of_stock',
  outofstock: 'out_of_stock',
  'out of stock': 'out_of_stock',
  sold_out: 'out_of_stock',
  preorder: 'preorder',
  pre_order: 'preorder',
  backorder: 'backorder',
  back_order: 'backorder',
};

const optionalText = z
  .string()
  .trim()
  .min(1)
  .max(100_000, 'longer than 100,000 characters')
  .optional();

/** The message for a value of the wrong type; other problems keep their own messages. */
function typeError(input: unknown, name: string): string {
  return input === undefined ? `${name} is missing` : `${name} must be text`;
}

const money = z.number().finite().nonnegative().max(1e9);

/** A product as this service understands it, whatever the source's shape. */
export const productSchema = z.object({
  id: z
    .string({
      error: (i) => typeError(i.input, 'product id'),
    })
    .trim()
    .min(1, 'product id is empty')
    .max(256, 'product id is longer than 256 characters')
    .regex(/^[^\s]+$/, 'product id contains whitespace'),
  title: z
    .string({ error: (i) => typeError(i.input, 'title') })
    .trim()
    .min(1, 'title is empty')
    .max(2_000, 'title is longer than 2,000 characters'),
  description: optionalText,
  brand: optionalText,
  price: money.optional(),
  salePrice: money.optional(),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'currency must be a 3-letter ISO code')
    .optional(),
  url: z.url().optional(),
  imageUrl: z.url().optional(),
  /** Category paths, each from the root to the leaf. */
  categories: z
    .array(z.array(z.string().trim().min(1)).min(1).max(20))
    .max(100)
    .optional(),
  availability: z.enum(AVAILABILITY).optional(),
  /** When the source last changed the product (ISO-8601). */
  updatedAt: z.iso.datetime({ offset: true }).optional(),
  attributes: z.record(z.string(), z.unknown()).optional(),
  variants: z
    .record(z.string(), z.object({ attributes: z.record(z.string(), z.unknown()) }))
    .optional(),
});

export type Product = z.infer<typeof productSchema>;

/** One problem found in a record: the field path, a stable code, a message. */
export interface RecordIssue {
  path: string;
  code: string;
  message: string;
}

export type ValidationResult =
  { ok: true; product: Product } | { ok: false; issues: RecordIssue[] };

export function normaliseAvailability(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  return AVAILABILITY_ALIASES[value.trim().toLowerCase().replace(/[-]/g, '_')] ?? value;
}

export function validateProduct(candidate: unknown): ValidationResult {
  const parsed = productSchema.safeParse(candidate);
  if (parsed.success) return { ok: true, product: parsed.data };
  return { ok: false, issues: toIssues(parsed.error) };
}

/** A removal needs a valid id; its update time, when given, orders it against other versions. */
const removalSchema = productSchema.pick({ id: true, updatedAt: true });

export type Removal = z.infer<typeof removalSchema>;

export function validateRemoval(
  candidate: unknown,
): { ok: true; removal: Removal } | { ok: false; issues: RecordIssue[] } {
  const parsed = removalSchema.safeParse(candidate);
  if (parsed.success) return { ok: true, removal: parsed.data };
  return { ok: false, issues: toIssues(parsed.error) };
}

function toIssues(error: z.ZodError): RecordIssue[] {
  return error.issues.map((i) => ({
    path: i.path.join('.') || '(record)',
    code: i.code,
    message: i.message,
  }));
}

export function describeIssues(issues: RecordIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('; ');
}

/** Escapes a product id for a JSON Pointer segment (`~` to `~0`, `/` to `~1`). */
export function encodePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The catalog API's `value` for a product: attributes plus variants. */
export function toCatalogValue(p: Product): {
  attributes: Record<string, unknown>;
  variants: Record<string, unknown>;
} {
  const attributes: Record<string, unknown> = { ...p.attributes, pid: p.id, title: p.title };
  const set = (key: string, value: unknown) => {
    if (value !== undefined) attributes[key] = value;
  };
  set('description', p.description);
  set('brand', p.brand);
  set('price', p.price);
  set('sale_price', p.salePrice);
  set('currency', p.currency);
  set('url', p.url);
  set('thumb_image', p.imageUrl);
  set('category_paths', p.categories?.map(categoryPath));
  set('availability', p.availability);
  return { attributes, variants: p.variants ?? {} };
}

/** Each level's id names its ancestors too, so a name under two parents gets two ids. */
function categoryPath(path: string[]): { id: string; name: string }[] {
  return path.map((name, i) => ({
    id: path
      .slice(0, i + 1)
      .map(slug)
      .join('/'),
    name,
  }));
}

function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || '-'
  );
}

/** A JSON Patch `add` operation for the product, as one line of JSON. */
export function toAddOperation(p: Product): string {
  return JSON.stringify({
    op: 'add',
    path: `/products/${encodePointer(p.id)}`,
    value: toCatalogValue(p),
  });
}

/** A JSON Patch `remove` operation for a product id, as one line of JSON. */
export function toRemoveOperation(id: string): string {
  return JSON.stringify({ op: 'remove', path: `/products/${encodePointer(id)}` });
}

/** The content hash of every removal: "the catalog does not hold this product". */
export const REMOVED_HASH = 'removed';

export function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}
