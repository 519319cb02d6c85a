import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { once } from 'node:events';

const BRANDS = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Stark', 'Wayne', 'Hooli', 'Vandelay'];
const CATEGORIES = ['Phones', 'Laptops', 'Audio', 'Cameras', 'Kitchen', 'Garden', 'Toys', 'Books'];
const NOUNS = ['Speaker', 'Charger', 'Case', 'Cable', 'Lamp', 'Kettle', 'Backpack', 'Headset'];

export interface GenerateOptions {
  /** First product number; ids are `SKU-<n>`. Default: 1. */
  start?: number;
  /** Every n-th record is invalid (negative price or no title); 0 for none. Default: 0. */
  invalidEvery?: number;
  /** Size of the description text, to make records realistic in bytes. Default: 400. */
  descriptionBytes?: number;
  /** Source update time of every record. Default: now. */
  updatedAt?: Date;
}

/** A small deterministic pseudo-random sequence, so generated catalogs are reproducible. */
function sequence(seed: number): () => number {
  let x = seed || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) % 1_000_000) / 1_000_000;
  };
}

/** Writes `count` products as JSON Lines, streaming, so any size fits in memory. */
export async function generateCatalog(
  path: string,
  count: number,
  o: GenerateOptions = {},
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const out = createWriteStream(path);
  const rand = sequence(count + (o.start ?? 1));
  const filler = 'Durable, well reviewed and shipped fast. '.repeat(
    Math.ceil((o.descriptionBytes ?? 400) / 41),
  );
  const updatedAt = (o.updatedAt ?? new Date()).toISOString();

  for (let i = 0; i < count; i++) {
    const n = (o.start ?? 1) + i;
    const pick = <T>(list: T[]) => list[Math.floor(rand() * list.length)]!;
    const invalid = o.invalidEvery ? n % o.invalidEvery === 0 : false;
    const record = {
      id: `SKU-${String(n).padStart(7, '0')}`,
      title: invalid && n % 2 === 0 ? '' : `${pick(BRANDS)} ${pick(NOUNS)} ${n}`,
      brand: pick(BRANDS),
      description: filler.slice(0, o.descriptionBytes ?? 400),
      price: invalid && n % 2 === 1 ? -1 : Math.round(rand() * 50_000) / 100,
      currency: 'USD',
      categories: [pick(CATEGORIES)],
      url: `https://shop.example.com/p/${n}`,
      image: `https://shop.example.com/img/${n}.jpg`,
      availability: rand() < 0.8 ? 'in_stock' : 'out_of_stock',
      updated_at: updatedAt,
    };
    if (!out.write(JSON.stringify(record) + '\n')) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}
