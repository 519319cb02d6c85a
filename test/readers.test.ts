import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { SourceFormatError, SourceNotFoundError } from '../src/errors';
import { JsonArraySplitter } from '../src/products/json-array-splitter';
import { type SourceRecord, detectFormat, readRecords } from '../src/products/readers';
import { Utf8Guard } from '../src/products/utf8-guard';
import { catalogFile, needsCatalogs } from './helpers/catalogs';

async function readAll(path: string): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  for await (const r of readRecords(path)) out.push(r);
  return out;
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'readers-'));
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('reading the real catalogs', { skip: needsCatalogs }, () => {
  const expected: [string, number, string][] = [
    ['bestbuy_typesense_ecommerce.json', 3_291, 'json'],
    ['amazon_meilisearch_demos_ecommerce.json', 1_000, 'json'],
    ['googlemerchstore_retail_api_products.jsonl', 316, 'jsonl'],
    ['dummyjson_products.json', 194, 'json'],
    ['feed_samples/bloomreach_pacifichome_mini_en.jsonl', 300, 'jsonl'],
  ];
  for (const [name, count, format] of expected) {
    it(`reads all ${count} records of ${name} as ${format}`, async () => {
      assert.equal(await detectFormat(catalogFile(name)), format);
      const records = await readAll(catalogFile(name));
      assert.equal(records.length, count);
      assert.ok(records.every((r) => 'record' in r));
    });
  }
});

describe('the streaming JSON array splitter', () => {
  it('keeps brackets, braces and escaped quotes inside strings', () => {
    const s = new JsonArraySplitter();
    const text = '[{"a":"x]},\\"y"},{"b":[1,2,{"c":"}"}]}, "plain", 42 ]';
    const parts = [...text].flatMap((ch) => s.push(ch));
    assert.deepEqual(
      parts.map((p) => JSON.parse(p)),
      [{ a: 'x]},"y' }, { b: [1, 2, { c: '}' }] }, 'plain', 42],
    );
    assert.equal(s.complete, true);
  });

  it('finds the records array inside a wrapper object such as Shopify products.json', () => {
    const s = new JsonArraySplitter();
    const parts = s.push('{"meta":{"page":1},"products":[{"id":1},{"id":2}],"next":null}');
    assert.deepEqual(
      parts.map((p) => JSON.parse(p)),
      [{ id: 1 }, { id: 2 }],
    );
  });
});

describe('bad input', () => {
  it('keeps a malformed element as a rejected record and reads on', async () => {
    const path = await file(
      'bad-element.json',
      '[{"id":"a","title":"A"},{"id":"b",title:"B"},{"id":"c","title":"C"}]',
    );
    const records = await readAll(path);
    assert.equal(records.length, 3);
    assert.ok('record' in records[0]!);
    assert.match((records[1] as { error: string }).error, /not valid JSON/);
    assert.deepEqual((records[2] as { record: unknown }).record, { id: 'c', title: 'C' });
  });

  it('fails a truncated file, naming the record it ends in, instead of reading part of it', async () => {
    const path = await file('truncated.json', '[{"id":"a","title":"A"},{"id":"b","tit');
    await assert.rejects(readAll(path), (err: Error) => {
      assert.ok(err instanceof SourceFormatError);
      assert.match(err.message, /ends inside record 2 .*truncated/);
      return true;
    });
  });

  it('refuses XML and binary files with a clear reason', async () => {
    const xml = await file('feed.xml', '<?xml version="1.0"?><rss></rss>');
    await assert.rejects(readAll(xml), /looks like XML/);
    const bin = await file(
      'garbage.dat',
      Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 7919) % 256)).toString('latin1'),
    );
    await assert.rejects(readAll(bin), /binary/);
  });

  it('names the line of a bad JSON Lines record', async () => {
    const path = await file('bad.jsonl', '{"id":"a"}\n\nnot json\n{"id":"b"}\n');
    const records = await readAll(path);
    assert.deepEqual(
      records.map((r) => r.position),
      [1, 3, 4],
    );
    assert.ok('error' in records[1]!);
  });

  it('fails clearly on a JSON file with no array', async () => {
    const path = await file('object.json', '{\n  "id": 1,\n  "title": "one"\n}\n');
    await assert.rejects(readAll(path), SourceFormatError);
  });

  it('fails clearly on a missing file', async () => {
    await assert.rejects(readAll(join(dir, 'nope.json')), (err: Error) => {
      assert.ok(err instanceof SourceNotFoundError);
      assert.match(err.message, /nope\.json/);
      return true;
    });
  });
});

describe('CSV and TSV', () => {
  it('reads quoted fields with commas and newlines, and strips the g: prefix of Merchant columns', async () => {
    const path = await file(
      'feed.csv',
      'g:id,title,g:price\nA1,"Lamp, brass",12.50 USD\nA2,"Two\nlines",3 USD\n',
    );
    const records = await readAll(path);
    assert.deepEqual(
      records.map((r) => (r as { record: unknown }).record),
      [
        { id: 'A1', title: 'Lamp, brass', price: '12.50 USD' },
        { id: 'A2', title: 'Two\nlines', price: '3 USD' },
      ],
    );
  });

  it('reads TSV by extension', async () => {
    const path = await file('feed.tsv', 'id\ttitle\nB1\tKettle\n');
    const records = await readAll(path);
    assert.deepEqual((records[0] as { record: unknown }).record, { id: 'B1', title: 'Kettle' });
  });

  it('rejects a row with more or fewer fields than the header, with the counts, and reads on', async () => {
    const path = await file(
      'ragged.csv',
      'id,title,price\n1,Hat,10\n2,Shoe\n3,Sock,3,extra\n4,Belt,2\n',
    );
    const records = await readAll(path);
    assert.deepEqual(
      records.map((r) => ('error' in r ? [r.position, r.error, r.raw] : [r.position, r.record])),
      [
        [2, { id: '1', title: 'Hat', price: '10' }],
        [3, 'row has 2 fields but the header has 3', '2,Shoe'],
        [4, 'row has 4 fields but the header has 3', '3,Sock,3,extra'],
        [5, { id: '4', title: 'Belt', price: '2' }],
      ],
    );
  });
});

describe('text that is not UTF-8', () => {
  it('rejects Latin-1 records instead of sending them garbled, and reads the rest', async () => {
    const csv = join(dir, 'latin1.csv');
    await writeFile(csv, Buffer.from('id,title,price\n1,Caf\xe9 cr\xe8me,2\n2,Tea,3\n', 'latin1'));
    const jsonl = join(dir, 'latin1.jsonl');
    await writeFile(
      jsonl,
      Buffer.from('{"id":"1","title":"Caf\xe9"}\n{"id":"2","title":"Tea"}\n', 'latin1'),
    );
    for (const path of [csv, jsonl]) {
      const records = await readAll(path);
      assert.equal(records.length, 2);
      assert.match((records[0] as { error: string }).error, /not UTF-8 .*Latin-1/);
      assert.ok('record' in records[1]!, 'the next record is read');
    }
  });

  it('keeps a line with NUL bytes as a rejected record', async () => {
    const path = await file('nul.jsonl', '{"id":"r1","title":"ok"}\n\u0000\u0001garbage line\n');
    const records = await readAll(path);
    assert.equal(records.length, 2);
    assert.match((records[1] as { error: string }).error, /not valid JSON/);
  });
});

describe('telling JSON from JSON Lines', () => {
  it('reads a minified Shopify products.json on one line as JSON', async () => {
    const path = await file(
      'minified.json',
      '{"products":[{"id":1,"title":"A"},{"id":2,"title":"B"}]}',
    );
    assert.equal(await detectFormat(path), 'json');
    assert.equal((await readAll(path)).length, 2);
  });

  it('reads one object a line as JSON Lines, whatever the extension', async () => {
    const path = await file('lines.json', '{"id":1,"tags":["a"]}\n{"id":2,"tags":["b"]}\n');
    assert.equal(await detectFormat(path), 'jsonl');
  });

  it('reads JSON Lines named .json whose first record is longer than 64 KiB', async () => {
    const record = (n: number, description: string) =>
      JSON.stringify({ id: `P${n}`, title: 'Shirt', description, variants: [{ id: `P${n}-S` }] });
    const lines = [record(1, 'x'.repeat(70_000)), record(2, 'short'), record(3, 'short')];
    const path = await file('long-first.json', lines.join('\n'));
    assert.equal(await detectFormat(path), 'jsonl');
    assert.equal((await readAll(path)).length, 3);
  });

  it('fails JSON Lines read as one JSON document instead of taking the first array in it', async () => {
    const path = await file('lines-as-json.txt', '{"id":1,"tags":["a"]}\n{"id":2,"tags":["b"]}\n');
    const read = async () => {
      for await (const r of readRecords(path, 'json')) void r;
    };
    await assert.rejects(read, /holds more than one JSON value, as JSON Lines do/);
  });

  it('reads files that begin with a UTF-8 byte order mark', async () => {
    const bom = '\ufeff';
    const cases: [string, string, string[]][] = [
      ['bom.jsonl', `${bom}{"id":"J1","title":"a"}\n{"id":"J2","title":"b"}\n`, ['J1', 'J2']],
      ['bom-object.json', `${bom}{"products":[{"id":"O1","title":"x"}]}`, ['O1']],
      ['bom.csv', `${bom}id,title\nC1,a\nC2,b\n`, ['C1', 'C2']],
    ];
    for (const [name, text, ids] of cases) {
      const records = await readAll(await file(name, text));
      const read = records.map((r) => ('record' in r ? (r.record as { id: string }).id : r.error));
      assert.deepEqual(read, ids, name);
    }
  });

  it('refuses a CSV header that names a column twice', async () => {
    const path = await file('twice.csv', 'id,title,id\n1,Hat,2\n');
    await assert.rejects(readAll(path), /names the column "id" twice in its header/);
  });

  it('tells TSV from CSV by the header when the name does not say', async () => {
    assert.equal(
      await detectFormat(await file('feed.txt', 'id\ttitle\tprice\nA\tB, C\t1\n')),
      'tsv',
    );
    assert.equal(await detectFormat(await file('feed2.txt', 'id,title\tnote\nA,B\tc\n')), 'csv');
  });

  it('reads a Latin-1 or NUL-holding text file record by record instead of refusing it', async () => {
    const latin1 = join(dir, 'latin1.txt');
    await writeFile(latin1, Buffer.from('id,title\n1,Caf\xe9\n2,Th\xe9\n3,Tea\n', 'latin1'));
    const records = await readAll(latin1);
    assert.deepEqual(
      records.map((r) => 'record' in r),
      [false, false, true],
    );
    const nul = await file('nul.json', '[{"id":"Z1","title":"a"},{"id":"Z2","title":"b\u0000c"}]');
    assert.deepEqual(
      (await readAll(nul)).map((r) => 'record' in r),
      [true, false],
    );
  });

  it('says an empty JSON file is empty', async () => {
    await assert.rejects(detectFormat(await file('empty.json', '  \n')), /empty\.json is empty/);
  });
});

describe('the UTF-8 guard', () => {
  async function guard(chunks: Buffer[]): Promise<string> {
    const g = new Utf8Guard();
    const out: Buffer[] = [];
    g.on('data', (b: Buffer) => out.push(b));
    for (const c of chunks) g.write(c);
    g.end();
    await once(g, 'end');
    return Buffer.concat(out).toString('utf8');
  }

  it('passes UTF-8 through unchanged however it is cut into chunks', async () => {
    const text = 'héllo € 𝄞 \ufffd ok';
    const bytes = Buffer.from(text, 'utf8');
    for (let cut = 0; cut <= bytes.length; cut++) {
      assert.equal(await guard([bytes.subarray(0, cut), bytes.subarray(cut)]), text, `cut ${cut}`);
    }
  });

  it('marks each byte that is not UTF-8: Latin-1, overlongs, surrogates, a cut-off end', async () => {
    const cases: [number[], string][] = [
      [[0x43, 0x61, 0x66, 0xe9], 'Caf\uffff'],
      [[0xc0, 0xaf, 0x41], '\uffff\uffffA'],
      [[0xed, 0xa0, 0x80], '\uffff\uffff\uffff'],
      [[0x41, 0xe2, 0x82], 'A\uffff\uffff'],
    ];
    for (const [bytes, expected] of cases) {
      assert.equal(await guard([Buffer.from(bytes)]), expected, Buffer.from(bytes).toString('hex'));
    }
  });
});
