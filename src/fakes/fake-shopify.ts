import type { IncomingMessage, ServerResponse } from 'node:http';
import { FakeSourceApi } from './loopback-server';

/** Admin API version the fake serves under `/admin/api/{version}/`. */
export const SHOPIFY_API_VERSION = '2024-10';

export interface ShopifyShopOptions {
  token: string;
  /** Leaky bucket size. Default: 40 (standard plan; Advanced 80, Plus 400). */
  bucketSize?: number;
  /** Requests leaked per second. Default: 2. */
  leakPerSecond?: number;
  /** Products generated at start. Default: 0. */
  products?: number;
  /** Send `Retry-After` as a float (`2.0`), as Shopify sometimes does. Default: false. */
  floatRetryAfter?: boolean;
  /** Products updated (newer `updated_at`) on every answered request, as a live shop does. Default: 0. */
  updatesPerRequest?: number;
  /** Products created on every answered request. Default: 0. */
  createsPerRequest?: number;
}

export interface ShopifyProduct {
  id: number;
  title: string;
  handle: string;
  body_html: string;
  vendor: string;
  product_type: string;
  tags: string;
  status: 'active' | 'draft' | 'archived';
  created_at: string;
  updated_at: string;
  variants: {
    id: number;
    product_id: number;
    sku: string;
    price: string;
    inventory_quantity: number;
  }[];
  images: { id: number; src: string }[];
}

interface Shop {
  options: Required<ShopifyShopOptions>;
  /** Products by id; ids only grow, as on Shopify. */
  products: Map<number, ShopifyProduct>;
  nextId: number;
  /** Bucket level and when it was last leaked. */
  level: number;
  leakedAt: number;
  requests: number;
  throttled: number;
  /** Answer every page with the same `page_info` (a stuck cursor), for tests. */
  loopCursor: boolean;
}

interface PageInfo {
  /** Last product id of the previous page. */
  after: number;
  updatedAtMin?: string;
}

/**
 * A multi-shop stand-in for the Shopify Admin REST products endpoint: per-shop tokens, a leaky
 * bucket per shop with `X-Shopify-Shop-Api-Call-Limit` on every answer and 429 + `Retry-After`
 * when full, `Link` header paging with opaque `page_info` (filters only on the first request),
 * and a catalog that can change while it is read.
 */
export class FakeShopify extends FakeSourceApi {
  readonly shops = new Map<string, Shop>();

  constructor(shops: Record<string, ShopifyShopOptions> = {}) {
    super();
    for (const [name, options] of Object.entries(shops)) this.addShop(name, options);
  }

  /** A shop's API: `${url}/shops/{shop}/admin/api/...`. */
  shopUrl(shop: string): string {
    return `${this.base}/shops/${shop}`;
  }

  addShop(name: string, o: ShopifyShopOptions): void {
    const shop: Shop = {
      options: {
        bucketSize: 40,
        leakPerSecond: 2,
        products: 0,
        floatRetryAfter: false,
        updatesPerRequest: 0,
        createsPerRequest: 0,
        ...o,
      },
      products: new Map(),
      nextId: 1_000_001,
      level: 0,
      leakedAt: Date.now(),
      requests: 0,
      throttled: 0,
      loopCursor: false,
    };
    this.shops.set(name, shop);
    this.createProducts(name, shop.options.products);
  }

  /** Adds products with fresh ids and timestamps; returns their ids. */
  createProducts(shopName: string, count: number): number[] {
    const shop = this.shop(shopName);
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      const id = shop.nextId++;
      const now = this.tick();
      shop.products.set(id, makeProduct(id, now));
      ids.push(id);
    }
    return ids;
  }

  /** Changes products (new title and price, newer `updated_at`). */
  updateProducts(shopName: string, ids: number[]): void {
    this.change(shopName, ids, (p) => {
      p.title = `${p.title.replace(/ \(rev \d+\)$/, '')} (rev ${Date.now()})`;
      p.variants[0]!.price = (Number(p.variants[0]!.price) + 1).toFixed(2);
    });
  }

  /** Archives products (status `archived`, newer `updated_at`); they stay in the listing. */
  archiveProducts(shopName: string, ids: number[]): void {
    this.change(shopName, ids, (p) => {
      p.status = 'archived';
    });
  }

  private change(shopName: string, ids: number[], edit: (p: ShopifyProduct) => void): void {
    const shop = this.shop(shopName);
    for (const id of ids) {
      const p = shop.products.get(id);
      if (!p) continue;
      p.updated_at = this.tick();
      edit(p);
    }
  }

  setLoopCursor(shopName: string, loop: boolean): void {
    this.shop(shopName).loopCursor = loop;
  }

  /** Requests and 429s answered for a shop. */
  stats(shopName: string): { requests: number; throttled: number } {
    const s = this.shop(shopName);
    return { requests: s.requests, throttled: s.throttled };
  }

  /** The current time; records created in the same millisecond share it, as real ones do. */
  private tick(): string {
    return new Date().toISOString();
  }

  private shop(name: string): Shop {
    const shop = this.shops.get(name);
    if (!shop) throw new Error(`no shop ${name}`);
    return shop;
  }

  protected handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.base);
    const match = /^\/shops\/([^/]+)\/admin\/api\/([^/]+)\/products\.json$/.exec(url.pathname);
    const shop = match ? this.shops.get(match[1]!) : undefined;
    if (!match || !shop) return json(res, 404, { errors: 'Not Found' });
    if (req.headers['x-shopify-access-token'] !== shop.options.token) {
      return json(res, 401, {
        errors: '[API] Invalid API key or access token (unrecognized login or wrong password)',
      });
    }

    shop.requests++;
    const limit = this.takeToken(shop);
    res.setHeader('X-Shopify-Shop-Api-Call-Limit', `${limit.level}/${shop.options.bucketSize}`);
    if (!limit.ok) {
      shop.throttled++;
      const wait = Math.max(1, 1 / shop.options.leakPerSecond);
      res.setHeader(
        'Retry-After',
        shop.options.floatRetryAfter ? wait.toFixed(1) : String(Math.ceil(wait)),
      );
      return json(res, 429, {
        errors:
          'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.',
      });
    }

    const problem = checkParams(url.searchParams);
    if (problem) return json(res, 400, { errors: problem });
    this.page(shop, match[1]!, match[2]!, url, res);
    this.churn(match[1]!, shop);
  }

  /** The catalog changes while it is read: some products updated, some created. */
  private churn(shopName: string, shop: Shop): void {
    const { updatesPerRequest, createsPerRequest } = shop.options;
    if (updatesPerRequest > 0) {
      const ids = [...shop.products.keys()];
      const picked = Array.from(
        { length: updatesPerRequest },
        () => ids[Math.floor(Math.random() * ids.length)]!,
      );
      this.updateProducts(shopName, picked);
    }
    if (createsPerRequest > 0) this.createProducts(shopName, createsPerRequest);
  }

  private takeToken(shop: Shop): { ok: boolean; level: number } {
    const now = Date.now();
    shop.level = Math.max(
      0,
      shop.level - ((now - shop.leakedAt) / 1000) * shop.options.leakPerSecond,
    );
    shop.leakedAt = now;
    if (shop.level + 1 > shop.options.bucketSize)
      return { ok: false, level: Math.ceil(shop.level) };
    shop.level += 1;
    return { ok: true, level: Math.ceil(shop.level) };
  }

  private page(shop: Shop, shopName: string, version: string, url: URL, res: ServerResponse): void {
    const params = url.searchParams;
    const limit = Math.min(250, Number(params.get('limit') ?? 50));
    const info: PageInfo = params.has('page_info')
      ? decodePageInfo(params.get('page_info')!)
      : {
          after: Number(params.get('since_id') ?? 0),
          ...optional('updatedAtMin', params.get('updated_at_min')),
        };

    const min = info.updatedAtMin ? Date.parse(info.updatedAtMin) : -Infinity;
    const rows: ShopifyProduct[] = [];
    let more = false;
    // Ids ascend in insertion order, so the map's order is id order.
    for (const p of shop.products.values()) {
      if (p.id <= info.after || Date.parse(p.updated_at) < min) continue;
      if (rows.length === limit) {
        more = true;
        break;
      }
      rows.push(p);
    }

    const links: string[] = [];
    const base = `${this.base}/shops/${shopName}/admin/api/${version}/products.json`;
    if (more) {
      const next: PageInfo = shop.loopCursor ? info : { ...info, after: rows[rows.length - 1]!.id };
      links.push(`<${base}?limit=${limit}&page_info=${encodePageInfo(next)}>; rel="next"`);
    }
    if (info.after > 0)
      links.push(
        `<${base}?limit=${limit}&page_info=${encodePageInfo({ ...info, after: 0 })}>; rel="previous"`,
      );
    if (links.length) res.setHeader('Link', links.join(', '));
    json(res, 200, { products: rows });
  }
}

function optional<K extends string>(key: K, value: string | null): Partial<Record<K, string>> {
  return value ? ({ [key]: value } as Record<K, string>) : {};
}

const FIRST_PAGE_ONLY = [
  'updated_at_min',
  'updated_at_max',
  'created_at_min',
  'since_id',
  'ids',
  'status',
];

/** Shopify's paging rules: `page` is refused, and `page_info` allows only `limit` and `fields`. */
function checkParams(params: URLSearchParams): string | undefined {
  if (params.has('page')) return 'page cannot be passed. Use page_info instead.';
  const limit = params.get('limit');
  if (limit !== null && !(Number(limit) >= 1 && Number(limit) <= 250))
    return 'limit must be between 1 and 250';
  if (params.has('page_info')) {
    const extra = FIRST_PAGE_ONLY.filter((p) => params.has(p));
    if (extra.length) return `page_info cannot be used with ${extra.join(', ')}`;
    try {
      decodePageInfo(params.get('page_info')!);
    } catch {
      return 'Invalid value for page_info';
    }
  }
  return undefined;
}

function encodePageInfo(info: PageInfo): string {
  return Buffer.from(JSON.stringify(info)).toString('base64url');
}

function decodePageInfo(raw: string): PageInfo {
  const info = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as PageInfo;
  if (typeof info.after !== 'number') throw new Error('bad page_info');
  return info;
}

function makeProduct(id: number, at: string): ShopifyProduct {
  return {
    id,
    title: `Product ${id}`,
    handle: `product-${id}`,
    body_html: `<p>Product ${id}, made with care.</p>`,
    vendor: ['Acme', 'Globex', 'Initech'][id % 3]!,
    product_type: ['Lamps', 'Kettles', 'Chairs', 'Rugs'][id % 4]!,
    tags: 'home, new',
    status: 'active',
    created_at: at,
    updated_at: at,
    variants: [
      {
        id: id * 10,
        product_id: id,
        sku: `SKU-${id}`,
        price: ((id % 9000) / 100 + 1).toFixed(2),
        inventory_quantity: id % 50,
      },
    ],
    images: [{ id: id * 10 + 1, src: `https://cdn.example.com/p/${id}.jpg` }],
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
