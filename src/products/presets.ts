import type { MappingInput } from './mapping';

/** Built-in mappings for well-known catalog shapes; `--mapping NAME` picks one by name. */
export const PRESETS = {
  /** Best Buy records as published in Algolia/Typesense demos: the SKU is in the image name. */
  bestbuy: {
    fields: {
      id: { path: 'image', pattern: '/(\\d+)_[^/]*$' },
      title: 'name',
      description: 'description',
      brand: 'brand',
      price: 'price',
      imageUrl: 'image',
      // Best Buy lists one path, root first.
      categories: { path: 'categories', hierarchy: true },
    },
    attributes: ['popularity'],
  },
  /** Shopify Admin REST `products.json`. */
  shopify: {
    fields: {
      id: 'id',
      title: 'title',
      description: 'body_html',
      brand: 'vendor',
      price: 'variants.0.price',
      imageUrl: ['image.src', 'images.0.src'],
      categories: 'product_type',
      updatedAt: 'updated_at',
    },
    variants: {
      path: 'variants',
      id: 'id',
      attributes: ['sku', 'price', 'inventory_quantity', 'title'],
    },
    attributes: ['handle', 'tags', 'status'],
    // Archived and draft products are not for sale: a delta takes them out of the catalog.
    remove: { path: 'status', values: ['archived', 'draft'] },
  },
  /** Google Retail API `Product` (import JSON Lines). */
  'google-retail': {
    fields: {
      id: 'id',
      title: 'title',
      description: 'description',
      brand: 'brands.0',
      price: 'priceInfo.price',
      currency: 'priceInfo.currencyCode',
      url: 'uri',
      imageUrl: 'images.0.uri',
      categories: 'categories',
      availability: 'availability',
      updatedAt: 'publishTime',
    },
    attributes: ['sizes', 'colorInfo.colors'],
  },
  /** Google Merchant Center rows (CSV/TSV), price as "105.29 USD". */
  'google-merchant': {
    fields: {
      id: 'id',
      title: 'title',
      description: 'description',
      brand: 'brand',
      price: 'price',
      salePrice: 'sale_price',
      url: 'link',
      imageUrl: 'image_link',
      categories: { path: ['product_type', 'google_product_category'], split: ' > ' },
      availability: 'availability',
    },
    attributes: ['gtin', 'mpn', 'condition', 'color', 'size', 'item_group_id'],
  },
  /** Bloomreach JSON Patch feed lines (`{"op":"add","path":"/products/<pid>","value":...}`). */
  bloomreach: {
    fields: {
      id: { path: 'path', pattern: '^/products/(.+)$' },
      title: 'value.attributes.title',
      description: 'value.attributes.description',
      brand: 'value.attributes.brand',
      price: 'value.attributes.price',
      salePrice: 'value.attributes.sale_price',
      url: 'value.attributes.url',
      imageUrl: 'value.attributes.thumb_image',
    },
    variants: 'value.variants',
    attributesFrom: 'value.attributes',
    remove: { path: 'op', values: ['remove'] },
  },
  /** The Meilisearch e-commerce demo (Amazon listings, Medusa-style products). */
  'meilisearch-ecommerce': {
    fields: {
      id: 'id',
      title: 'title',
      description: 'description',
      brand: 'brand',
      price: 'price',
      url: 'url',
      imageUrl: 'images.0',
      categories: 'category',
    },
    attributes: ['handle', 'rating', 'reviews_count'],
  },
  /** DummyJSON-style products. */
  dummyjson: {
    fields: {
      id: 'id',
      title: 'title',
      description: 'description',
      brand: 'brand',
      price: 'price',
      imageUrl: 'thumbnail',
      categories: 'category',
      updatedAt: 'meta.updatedAt',
    },
    attributes: ['sku', 'stock', 'rating', 'availabilityStatus'],
  },
  /** Salesforce `Product2` records from the REST query API. */
  salesforce: {
    fields: {
      id: 'Id',
      title: 'Name',
      description: 'Description',
      categories: 'Family',
      updatedAt: 'LastModifiedDate',
    },
    attributes: ['ProductCode', 'IsActive'],
    // An inactive product cannot be sold: a delta takes it out of the catalog.
    remove: { path: 'IsActive', values: [false] },
  },
  /** Common field names, for records of no known shape. */
  generic: {
    fields: {
      id: ['id', 'sku', 'product_id', 'pid', 'item_id'],
      title: ['title', 'name', 'product_name'],
      description: ['description', 'body_html'],
      brand: ['brand', 'vendor', 'manufacturer'],
      price: ['price', 'sale_price'],
      currency: ['currency', 'currency_code'],
      url: ['url', 'link'],
      imageUrl: ['image', 'image_url', 'image_link', 'thumbnail'],
      categories: ['categories', 'category', 'product_type'],
      availability: ['availability'],
      updatedAt: ['updated_at', 'updatedAt', 'last_modified'],
    },
  },
} satisfies Record<string, MappingInput>;

export type PresetName = keyof typeof PRESETS;

function has(record: Record<string, unknown>, ...keys: string[]): boolean {
  return keys.every((k) => k in record);
}

/** Picks a preset from the first record's shape; `generic` when nothing specific matches. */
export function detectPreset(sample: unknown): PresetName {
  if (sample === null || typeof sample !== 'object' || Array.isArray(sample)) return 'generic';
  const r = sample as Record<string, unknown>;

  if (has(r, 'op', 'path') && (has(r, 'value') || r.op === 'remove')) return 'bloomreach';
  if (has(r, 'Id', 'Name') && (has(r, 'IsActive') || has(r, 'ProductCode'))) return 'salesforce';
  if (has(r, 'priceInfo') || (has(r, 'id', 'title') && has(r, 'brands'))) return 'google-retail';
  if (has(r, 'body_html') || has(r, 'vendor', 'variants')) return 'shopify';
  if (has(r, 'name', 'image', 'popularity')) return 'bestbuy';
  if (has(r, 'handle', 'reviews_count')) return 'meilisearch-ecommerce';
  if (has(r, 'meta', 'thumbnail')) return 'dummyjson';
  if (has(r, 'image_link') || has(r, 'link', 'price', 'availability')) return 'google-merchant';
  return 'generic';
}
