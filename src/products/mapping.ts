import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { MappingError } from '../errors';
import { normaliseAvailability } from './product';
import { PRESETS, type PresetName, detectPreset } from './presets';

const path = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** Where a product field comes from: a path, alternatives tried in order, or a path with a rule. */
const fieldSpec = z.union([
  path,
  z.object({
    path,
    /** A regular expression whose first group is the value (e.g. a SKU inside an image URL). */
    pattern: z.string().optional(),
    /** Splits a string into a list (e.g. ` > ` in category paths). */
    split: z.string().optional(),
    /** For categories: the list is one path from root to leaf, not several categories. */
    hierarchy: z.boolean().optional(),
  }),
]);

const variantsSpec = z.union([
  path,
  z.object({
    /** Path to an array of variants. */
    path,
    /** Field of a variant that identifies it. */
    id: z.string().min(1),
    /** Fields of a variant copied into its attributes. */
    attributes: z.array(z.string().min(1)).default([]),
  }),
]);

export const mappingSchema = z
  .object({
    fields: z
      .object({
        id: fieldSpec,
        title: fieldSpec,
        description: fieldSpec,
        brand: fieldSpec,
        price: fieldSpec,
        salePrice: fieldSpec,
        currency: fieldSpec,
        url: fieldSpec,
        imageUrl: fieldSpec,
        categories: fieldSpec,
        availability: fieldSpec,
        updatedAt: fieldSpec,
      })
      .partial()
      .required({ id: true, title: true })
      .strict(),
    variants: variantsSpec.optional(),
    /** Source fields copied as extra catalog attributes, under their last path segment. */
    attributes: z.array(z.string().min(1)).default([]),
    /** Path of an object whose keys all become catalog attributes. */
    attributesFrom: z.string().min(1).optional(),
    /**
     * Records that say a product is gone: the value at `path` is one of `values` (e.g. `status`
     * `archived`, or `_deleted` `true`). A delta sends them as `remove` operations; only their
     * id (and update time) must be valid. Default: no record is a removal.
     */
    remove: z
      .object({
        path: z.string().min(1),
        values: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1),
      })
      .strict()
      .optional(),
  })
  .strict();

export type Mapping = z.infer<typeof mappingSchema>;
export type MappingInput = z.input<typeof mappingSchema>;
type FieldSpec = z.infer<typeof fieldSpec>;

/** Resolves `--mapping`: a preset name, a path to a JSON mapping file, or undefined (detect). */
/** A preset's own name (not `toString` or another name every object answers to). */
export function isPreset(ref: string): ref is PresetName {
  return Object.hasOwn(PRESETS, ref);
}

export async function loadMapping(
  ref: string | undefined,
  sample: unknown,
): Promise<{ name: string; mapping: Mapping }> {
  if (ref === undefined || ref === 'auto') {
    const name = detectPreset(sample);
    return { name, mapping: mappingSchema.parse(PRESETS[name]) };
  }
  if (isPreset(ref)) return { name: ref, mapping: mappingSchema.parse(PRESETS[ref]) };

  let text: string;
  try {
    text = await readFile(ref, 'utf8');
  } catch {
    throw new MappingError(
      `mapping ${JSON.stringify(ref)} is neither a preset (${Object.keys(PRESETS).join(', ')}) nor a readable file`,
    );
  }
  return { name: ref, mapping: parseMapping(text, ref) };
}

export function parseMapping(text: string, origin: string): Mapping {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new MappingError(`mapping file ${origin} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = mappingSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${i.path.join('.') || '(root)'}: ${i.message}`,
    );
    throw new MappingError(`mapping file ${origin} is invalid: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** Reads `a.b.0.c` or `a.b[0].c` from a record. */
export function getPath(record: unknown, dotted: string): unknown {
  let current: unknown = record;
  for (const key of dotted.replace(/\[(\d+)\]/g, '.$1').split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function firstPresent(record: unknown, p: string | string[]): unknown {
  for (const candidate of Array.isArray(p) ? p : [p]) {
    const value = getPath(record, candidate);
    if (value !== undefined && value !== null && value !== '') return value;
  }
  return undefined;
}

function readField(record: unknown, spec: FieldSpec | undefined): unknown {
  if (spec === undefined) return undefined;
  if (typeof spec === 'string' || Array.isArray(spec)) return firstPresent(record, spec);

  let value = firstPresent(record, spec.path);
  if (spec.pattern && typeof value === 'string') value = new RegExp(spec.pattern).exec(value)?.[1];
  return value;
}

/** Whether the mapping reads this record as the removal of its product. */
export function isRemoval(record: unknown, mapping: Mapping): boolean {
  if (!mapping.remove) return false;
  const value = getPath(record, mapping.remove.path);
  if (value === undefined || value === null || typeof value === 'object') return false;
  // CSV carries `true` as text, and sources disagree on case (`archived`, `ARCHIVED`).
  const text = String(value).trim().toLowerCase();
  return mapping.remove.values.some((v) => String(v).toLowerCase() === text);
}

/** The id and update time of a removal record; nothing else of it matters. */
export function applyRemovalMapping(record: unknown, mapping: Mapping): Record<string, unknown> {
  const out: Record<string, unknown> = { id: asId(readField(record, mapping.fields.id)) };
  const updatedAt = asTimestamp(readField(record, mapping.fields.updatedAt));
  if (updatedAt !== undefined) out.updatedAt = updatedAt;
  return out;
}

/** Applies a mapping to one source record. The result still has to pass validation. */
export function applyMapping(record: unknown, mapping: Mapping): Record<string, unknown> {
  const f = mapping.fields;
  const out: Record<string, unknown> = {};
  const put = (key: string, value: unknown) => {
    if (value !== undefined) out[key] = value;
  };

  put('id', asId(readField(record, f.id)));
  put('title', asText(readField(record, f.title)));
  put('description', asText(readField(record, f.description)));
  put('brand', asText(readField(record, f.brand)));

  const price = asMoney(readField(record, f.price));
  put('price', price.amount);
  put('salePrice', asMoney(readField(record, f.salePrice)).amount);
  put('currency', asText(readField(record, f.currency)) ?? price.currency);

  put('url', asText(readField(record, f.url)));
  put('imageUrl', asText(readField(record, f.imageUrl)));
  put('categories', asCategoryPaths(readField(record, f.categories), f.categories));
  put('availability', normaliseAvailability(readField(record, f.availability)));
  put('updatedAt', asTimestamp(readField(record, f.updatedAt)));
  put('attributes', readAttributes(record, mapping));
  put('variants', readVariants(record, mapping.variants));
  return out;
}

function readAttributes(record: unknown, mapping: Mapping): Record<string, unknown> | undefined {
  const attributes: Record<string, unknown> = {};
  const from = mapping.attributesFrom ? getPath(record, mapping.attributesFrom) : undefined;
  if (from && typeof from === 'object' && !Array.isArray(from)) Object.assign(attributes, from);

  for (const p of mapping.attributes) {
    const value = getPath(record, p);
    if (value !== undefined && value !== null && value !== '')
      attributes[p.split('.').pop()!] = value;
  }
  return Object.keys(attributes).length > 0 ? attributes : undefined;
}

function readVariants(record: unknown, spec: Mapping['variants']): unknown {
  if (spec === undefined) return undefined;
  if (typeof spec === 'string' || Array.isArray(spec)) return firstPresent(record, spec);

  const list = firstPresent(record, spec.path);
  if (!Array.isArray(list)) return undefined;
  const variants: Record<string, { attributes: Record<string, unknown> }> = {};
  for (const item of list) {
    const id = asId(getPath(item, spec.id));
    if (typeof id !== 'string' || id === '') continue;
    const attributes: Record<string, unknown> = { skuid: id };
    for (const p of spec.attributes) {
      const value = getPath(item, p);
      if (value !== undefined && value !== null) attributes[p.split('.').pop()!] = value;
    }
    variants[id] = { attributes };
  }
  return variants;
}

function asId(value: unknown): unknown {
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
}

function asText(value: unknown): unknown {
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  // Some exports write an empty field as a literal pair of quotes.
  return trimmed === '' || trimmed === '""' ? undefined : trimmed;
}

const PRICE_TEXT = /^\s*\$?\s*(\d+(?:\.\d+)?)\s*([A-Za-z]{3})?\s*$/;

/** Numbers pass; `"16"`, `"45.0"` and `"105.29 USD"` become an amount and maybe a currency. */
function asMoney(value: unknown): { amount: unknown; currency?: string } {
  if (typeof value !== 'string') return { amount: value ?? undefined };
  const match = PRICE_TEXT.exec(value);
  if (!match) return { amount: value.trim() === '' ? undefined : value };
  const amount = Number(match[1]);
  return match[2] ? { amount, currency: match[2].toUpperCase() } : { amount };
}

/**
 * Category paths from a field: a list marked `hierarchy` is one root-to-leaf path; otherwise each
 * string is a path of its own, split on ` > ` (Google's notation) unless a `split` is given.
 */
function asCategoryPaths(value: unknown, spec: FieldSpec | undefined): unknown {
  if (value === undefined) return undefined;
  const options: { hierarchy?: boolean | undefined; split?: string | undefined } =
    typeof spec === 'object' && !Array.isArray(spec) ? spec : {};
  const texts = (list: unknown[]) =>
    list.filter((v): v is string => typeof v === 'string' && v.trim() !== '').map((v) => v.trim());
  if (Array.isArray(value) && value.every((v) => Array.isArray(v)))
    return value.map((path) => texts(path));
  if (options.hierarchy && Array.isArray(value)) return [texts(value)];
  const list = Array.isArray(value)
    ? texts(value)
    : typeof value === 'string'
      ? [value]
      : undefined;
  if (!list) return value;
  const separator = options.split ?? ' > ';
  return list
    .map((text) =>
      text
        .split(separator)
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .filter((p) => p.length > 0);
}

function asTimestamp(value: unknown): unknown {
  if (value === undefined) return undefined;
  const date =
    typeof value === 'number'
      ? new Date(value)
      : typeof value === 'string'
        ? new Date(value)
        : undefined;
  if (!date || Number.isNaN(date.getTime())) return value;
  return date.toISOString();
}
