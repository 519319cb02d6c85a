import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { MappingError } from '../src/errors';
import { applyMapping, loadMapping, parseMapping } from '../src/products/mapping';
import { detectPreset } from '../src/products/presets';
import { toAddOperation, validateProduct } from '../src/products/product';
import { RecordChunk } from '../activities/record-chunk';
import { catalogFile, needsCatalogs } from './helpers/catalogs';

async function firstJsonLines(name: string, n: number): Promise<unknown[]> {
  const text = await readFile(catalogFile(name), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .slice(0, n)
    .map((l) => JSON.parse(l));
}

async function mapped(record: unknown, preset?: string) {
  const { mapping } = await loadMapping(preset, record);
  return validateProduct(applyMapping(record, mapping));
}

describe('presets on the real catalogs', { skip: needsCatalogs }, () => {
  it('derives the Best Buy SKU from the image file name', async () => {
    const records = JSON.parse(
      await readFile(catalogFile('bestbuy_typesense_ecommerce.json'), 'utf8'),
    );
    assert.equal(detectPreset(records[0]), 'bestbuy');
    const result = await mapped(records[0]);
    assert.ok(result.ok);
    assert.equal(result.product.id, /\/(\d+)_/.exec(records[0].image)![1]);
    assert.equal(result.product.price, records[0].price);
    assert.deepEqual(result.product.categories, [records[0].categories], 'one path, root first');
    const paths = JSON.parse(toAddOperation(result.product)).value.attributes.category_paths;
    assert.equal(paths.length, 1);
    assert.deepEqual(
      paths[0].map((c: { name: string }) => c.name),
      records[0].categories,
    );
    assert.equal(
      paths[0][1].id,
      `${paths[0][0].id}/${paths[0][1].id.split('/')[1]}`,
      'ids carry their ancestors',
    );
  });

  it('turns Google Retail string prices into numbers with their currency', async () => {
    const [record] = (await firstJsonLines(
      'googlemerchstore_retail_api_products.jsonl',
      1,
    )) as Record<string, any>[];
    assert.equal(detectPreset(record), 'google-retail');
    const result = await mapped(record);
    assert.ok(result.ok);
    assert.equal(result.product.price, Number(record!.priceInfo.price));
    assert.equal(result.product.currency, record!.priceInfo.currencyCode);
  });

  it("rejects Google's invalid availability with the field and the allowed values", async () => {
    const records = await firstJsonLines(
      'feed_samples/googlemerchstore_retail_api_products_some_invalid.jsonl',
      3,
    );
    const results = await Promise.all(records.map((r) => mapped(r, 'google-retail')));
    const rejected = results.filter((r) => !r.ok);
    assert.equal(rejected.length, 1);
    assert.ok(!rejected[0]!.ok);
    assert.equal(rejected[0]!.issues[0]!.path, 'availability');
    assert.match(rejected[0]!.issues[0]!.message, /in_stock/);
  });

  it('keeps Bloomreach feed attributes and variants as they are', async () => {
    const [record] = (await firstJsonLines(
      'feed_samples/bloomreach_pacifichome_mini_en.jsonl',
      1,
    )) as Record<string, any>[];
    const result = await mapped(record);
    assert.ok(result.ok);
    const op = JSON.parse(toAddOperation(result.product));
    assert.equal(op.path, record!.path);
    assert.deepEqual(op.value.variants, record!.value.variants);
    assert.deepEqual(op.value.attributes.category_paths, record!.value.attributes.category_paths);
  });
});

describe('mapping rules', () => {
  it('reads Merchant "amount CURRENCY" prices and splits category paths', async () => {
    const result = await mapped(
      {
        id: 'dz1',
        title: 'Tee',
        price: '105.29 USD',
        link: 'https://example.com/t',
        product_type: 'Apparel > Tops',
      },
      'google-merchant',
    );
    assert.ok(result.ok);
    assert.equal(result.product.price, 105.29);
    assert.equal(result.product.currency, 'USD');
    assert.deepEqual(result.product.categories, [['Apparel', 'Tops']]);
  });

  it('builds Shopify variants keyed by variant id', async () => {
    const shopify = {
      id: 632910392,
      title: 'IPod Nano',
      body_html: '<p>It is small</p>',
      vendor: 'Apple',
      updated_at: '2024-01-02T10:00:00-05:00',
      variants: [{ id: 808950810, sku: 'IPOD2008PINK', price: '199.00' }],
    };
    const result = await mapped(shopify);
    assert.ok(result.ok);
    assert.equal(result.product.id, '632910392');
    assert.equal(result.product.price, 199);
    assert.equal(result.product.updatedAt, '2024-01-02T15:00:00.000Z');
    assert.deepEqual(result.product.variants, {
      '808950810': { attributes: { skuid: '808950810', sku: 'IPOD2008PINK', price: '199.00' } },
    });
  });

  it('lists every problem of a bad record, by field', async () => {
    const result = await mapped(
      { id: 'has space', title: '', price: -3, url: 'not a url' },
      'generic',
    );
    assert.ok(!result.ok);
    assert.deepEqual(result.issues.map((i) => i.path).sort(), ['id', 'price', 'title', 'url']);
  });

  it('escapes product ids in the JSON Pointer path', async () => {
    const result = await mapped({ id: 'a/b~c', title: 'Slash' }, 'generic');
    assert.ok(result.ok);
    assert.equal(JSON.parse(toAddOperation(result.product)).path, '/products/a~1b~0c');
  });

  it('reads inactive Salesforce and archived or draft Shopify products as removals', async () => {
    const chunk = new RecordChunk();
    const salesforce = (await loadMapping('salesforce', undefined)).mapping;
    const shopify = (await loadMapping('shopify', undefined)).mapping;
    chunk.add({ position: 1, record: { Id: '01t1', Name: 'Lamp', IsActive: false } }, salesforce);
    chunk.add({ position: 2, record: { Id: '01t2', Name: 'Kettle', IsActive: true } }, salesforce);
    chunk.add({ position: 3, record: { id: 7, title: 'Rug', status: ' draft ' } }, shopify);
    chunk.add({ position: 4, record: { id: 8, title: 'Chair', status: 'active' } }, shopify);
    assert.deepEqual(
      chunk.itemList().map((i) => [i.productId, i.removal, JSON.parse(i.operation).op]),
      [
        ['01t1', true, 'remove'],
        ['01t2', false, 'add'],
        ['7', true, 'remove'],
        ['8', false, 'add'],
      ],
    );
  });

  it('matches removal values across case and the text CSV gives them', async () => {
    const chunk = new RecordChunk();
    const shopify = (await loadMapping('shopify', undefined)).mapping;
    const custom = parseMapping(
      JSON.stringify({
        fields: { id: 'id', title: 'title' },
        remove: { path: 'deleted', values: [true] },
      }),
      'm.json',
    );
    chunk.add({ position: 1, record: { id: 1, title: 'A', status: 'ARCHIVED' } }, shopify);
    chunk.add({ position: 2, record: { id: 'c1', title: 'B', deleted: 'TRUE' } }, custom);
    chunk.add({ position: 3, record: { id: 'c2', title: 'C', deleted: 'false' } }, custom);
    chunk.add({ position: 4, record: { id: 'c3', title: 'D', deleted: { nested: true } } }, custom);
    assert.deepEqual(
      chunk.itemList().map((i) => [i.productId, i.removal]),
      [
        ['1', true],
        ['c1', true],
        ['c2', false],
        ['c3', false],
      ],
    );
  });

  it('takes the text \\u0000 for text, and only a real NUL for a NUL', async () => {
    const chunk = new RecordChunk();
    const generic = (await loadMapping('generic', undefined)).mapping;
    chunk.add(
      { position: 1, record: { id: 'M2', title: 'Escape sequence \\u0000 explained' } },
      generic,
    );
    chunk.add({ position: 2, record: { id: 'M3', title: 'a real \u0000 NUL' } }, generic);
    assert.deepEqual(
      chunk.itemList().map((i) => i.productId),
      ['M2'],
    );
    assert.match(chunk.rejected[0]!.reason, /NUL character/);
  });

  it('detects Salesforce rows and Bloomreach remove lines, and reads the latter as removals', async () => {
    assert.equal(detectPreset({ Id: '01t1', Name: 'Lamp', IsActive: true }), 'salesforce');
    const line = { op: 'remove', path: '/products/006' };
    assert.equal(detectPreset(line), 'bloomreach');
    const chunk = new RecordChunk();
    chunk.add({ position: 1, record: line }, (await loadMapping('bloomreach', undefined)).mapping);
    assert.deepEqual(
      chunk.itemList().map((i) => [i.productId, i.removal]),
      [['006', true]],
    );
  });

  it('refuses a removal rule without values', () => {
    assert.throws(
      () =>
        parseMapping(
          JSON.stringify({
            fields: { id: 'id', title: 't' },
            remove: { path: 'deleted', values: [] },
          }),
          'm.json',
        ),
      /mapping file m\.json is invalid: remove\.values: /,
    );
  });

  it('says a field is too long, not that it is not text', () => {
    const result = validateProduct({ id: 'x'.repeat(300), title: 't'.repeat(3_000) });
    assert.ok(!result.ok);
    assert.deepEqual(
      result.issues.map((i) => `${i.path}: ${i.message}`),
      [
        'id: product id is longer than 256 characters',
        'title: title is longer than 2,000 characters',
      ],
    );
  });

  it('names the wrong key of a mapping file', () => {
    assert.throws(
      () => parseMapping('{"fields":{"id":"sku","title":"name","prise":"price"}}', 'm.json'),
      (err: Error) => err instanceof MappingError && /fields.*prise|prise/.test(err.message),
    );
    assert.throws(() => parseMapping('{"fields":{"id":"sku"}}', 'm.json'), /fields\.title/);
  });
});

describe('records the warehouse cannot store', () => {
  it('rejects a record with a NUL character, with a reason, instead of failing the file', async () => {
    const { mapping } = await loadMapping('generic', undefined);
    const chunk = new RecordChunk();
    chunk.add({ position: 1, record: { id: 'ok', title: 'Fine' } }, mapping);
    chunk.add({ position: 2, record: { id: 'a\u0000b', title: 'Id with NUL' } }, mapping);
    chunk.add({ position: 3, record: { id: 'c', title: 'Title \u0000 with NUL' } }, mapping);
    chunk.add({ position: 4, record: 42 }, mapping);
    assert.deepEqual([...chunk.items.keys()], ['ok']);
    assert.deepEqual(
      chunk.rejected.map((r) => [r.position, r.productId, r.reason]),
      [
        [2, 'ab', 'a field contains a NUL character (U+0000), which cannot be stored'],
        [3, 'c', 'a field contains a NUL character (U+0000), which cannot be stored'],
        [4, null, 'record is not an object (got number)'],
      ],
    );
  });
});
