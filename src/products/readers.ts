import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { type Readable, pipeline } from 'node:stream';
import { parse as parseCsv } from 'csv-parse';
import { SourceFormatError, SourceNotFoundError } from '../errors';
import { JsonArraySplitter } from './json-array-splitter';
import { NOT_UTF8_MARK, Utf8Guard } from './utf8-guard';

export const FILE_FORMATS = ['json', 'jsonl', 'csv', 'tsv'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

/** One record read from a file, or the reason it could not be read. */
export type SourceRecord =
  { position: number; record: unknown } | { position: number; error: string; raw: string };

const HEAD_BYTES = 64 * 1024;
/** How much of a record that cannot be read is kept with its reason. */
const RAW_MAX_CHARS = 100_000;
const FIRST_LINE_MAX_BYTES = 16 * 1024 * 1024;

/** Picks the format from the extension, then from the first bytes. */
export async function detectFormat(path: string): Promise<FileFormat> {
  await assertReadable(path);
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv') return 'tsv';

  const head = await readHead(path, HEAD_BYTES);
  if (looksBinary(head))
    throw new SourceFormatError(
      `${path} looks like a binary file, not JSON, JSON Lines, CSV or TSV`,
    );
  const first = head.trimStart()[0];
  if (first === '<') {
    throw new SourceFormatError(
      `${path} looks like XML; supported formats are JSON, JSON Lines, CSV and TSV`,
    );
  }
  if (first === '[') return 'json';
  if (first === '{') {
    // A first record longer than the head: read on to the end of its line to judge.
    const whole = head.includes('\n') || Buffer.byteLength(head) < HEAD_BYTES;
    const probe = whole ? head : await readHead(path, FIRST_LINE_MAX_BYTES);
    return looksLikeJsonLines(probe) ? 'jsonl' : 'json';
  }
  if (ext === '.json') {
    const what = head.trim() === '' ? 'is empty' : 'does not start with a JSON array or object';
    throw new SourceFormatError(`${path} ${what}`);
  }
  const header = head.split('\n', 1)[0]!;
  const count = (c: string) => header.split(c).length - 1;
  return count('\t') > count(',') ? 'tsv' : 'csv';
}

/**
 * A first line that is a whole JSON object, followed by another object, or itself holding no
 * array of records. Shopify's minified `{"products": [...]}` is one line too, but a JSON file.
 */
function looksLikeJsonLines(head: string): boolean {
  const [firstLine, ...rest] = head.trimStart().split('\n');
  let parsed: unknown;
  try {
    parsed = JSON.parse(firstLine!);
  } catch {
    return false;
  }
  const next = rest.find((line) => line.trim() !== '');
  if (next !== undefined) return next.trimStart().startsWith('{');
  return !Object.values(parsed as object).some(Array.isArray);
}

/**
 * Many NUL bytes, control characters or undecodable bytes in the first bytes: not a text feed.
 * A stray NUL or a Latin-1 accent is a bad record to reject, not a reason to refuse the file.
 */
function looksBinary(head: string): boolean {
  if (head.length === 0) return false;
  const count = (pattern: RegExp) => head.match(pattern)?.length ?? 0;
  const share = (pattern: RegExp) => count(pattern) / head.length;
  return (
    (count(/\u0000/g) > 4 && share(/\u0000/g) > 0.01) ||
    share(/[\u0001-\u0008\u000e-\u001f]/g) > 0.05 ||
    share(/\ufffd/g) > 0.3
  );
}

async function readHead(path: string, bytes: number): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

/** A row as an object by header name; a row with more or fewer fields is rejected whole. */
function delimitedRecord(
  header: string[],
  fields: string[],
  raw: string,
  position: number,
): SourceRecord {
  const text = raw.replace(/\r?\n$/, '');
  if (fields.length !== header.length) {
    const error = `row has ${fields.length} fields but the header has ${header.length}`;
    return { position, error, raw: text.slice(0, RAW_MAX_CHARS) };
  }
  if (text.includes(NOT_UTF8_MARK))
    return { position, error: NOT_UTF8, raw: text.slice(0, RAW_MAX_CHARS) };
  return { position, record: Object.fromEntries(header.map((name, i) => [name, fields[i]])) };
}

/** Streams the records of a file; a record that cannot be parsed is yielded with its reason. */
export async function* readRecords(
  path: string,
  format?: FileFormat,
): AsyncGenerator<SourceRecord> {
  await assertReadable(path);
  const chosen = format ?? (await detectFormat(path));
  if (chosen === 'json') yield* readJsonArray(path);
  else if (chosen === 'jsonl') yield* readJsonLines(path);
  else yield* readDelimited(path, chosen === 'tsv' ? '\t' : ',');
}

async function assertReadable(path: string): Promise<void> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new SourceNotFoundError(`${path} is not a file`);
  } catch (err) {
    if (err instanceof SourceNotFoundError) throw err;
    throw new SourceNotFoundError(
      `cannot read source file ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`,
    );
  }
}

/** The file's text, with bytes that are not UTF-8 marked (see Utf8Guard). */
function utf8Text(path: string): Readable {
  const text = pipeline(
    createReadStream(path, { highWaterMark: 256 * 1024 }),
    new Utf8Guard(),
    () => undefined, // an error reaches the reader through the last stream
  );
  text.setEncoding('utf8');
  return text;
}

/** A record with bytes that are not UTF-8 would be sent garbled. */
const NOT_UTF8 =
  'contains bytes that are not UTF-8 (the file may be Latin-1 or Windows-1252: convert it to UTF-8)';

function parseElement(text: string, position: number): SourceRecord {
  if (text.includes(NOT_UTF8_MARK))
    return { position, error: NOT_UTF8, raw: text.slice(0, RAW_MAX_CHARS) };
  try {
    return { position, record: JSON.parse(text) };
  } catch (err) {
    return {
      position,
      error: `not valid JSON: ${(err as Error).message}`,
      raw: text.slice(0, RAW_MAX_CHARS),
    };
  }
}

async function* readJsonArray(path: string): AsyncGenerator<SourceRecord> {
  const splitter = new JsonArraySplitter();
  let position = 0;
  for await (const chunk of utf8Text(path)) {
    for (const element of splitter.push(chunk as string)) yield parseElement(element, ++position);
  }
  if (!splitter.foundArray) throw new SourceFormatError(`${path} holds no array of records`);
  if (splitter.trailing) {
    throw new SourceFormatError(
      `${path} holds more than one JSON value, as JSON Lines do (one record a line): ` +
        'name it .jsonl or give the format jsonl',
    );
  }
  if (!splitter.complete) {
    const raw = splitter.remainder;
    // A cut-off file is not a feed: fail the whole ingestion rather than send part of it.
    const where = raw
      ? `inside record ${position + 1} (${JSON.stringify(raw.slice(0, 60))}...)`
      : 'before its array is closed';
    throw new SourceFormatError(`${path} ends ${where}: the file is truncated`);
  }
}

async function* readJsonLines(path: string): AsyncGenerator<SourceRecord> {
  const lines = createInterface({ input: utf8Text(path), crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    yield parseElement(text, line);
  }
}

async function* readDelimited(path: string, delimiter: string): AsyncGenerator<SourceRecord> {
  const parser = utf8Text(path).pipe(
    parseCsv({
      delimiter,
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
      relax_quotes: true,
      info: true,
      raw: true,
    }),
  );
  let header: string[] | undefined;
  try {
    for await (const row of parser as AsyncIterable<{
      record: string[];
      raw: string;
      info: { lines: number };
    }>) {
      if (!header) {
        header = row.record.map((h) => h.trim().replace(/^g:/, ''));
        const twice = header.find((name, i) => header!.indexOf(name) !== i);
        if (twice !== undefined) {
          // Which of the two columns is meant cannot be guessed; taking one would lose the other.
          throw new SourceFormatError(`${path} names the column "${twice}" twice in its header`);
        }
        continue;
      }
      // A line of nothing but blanks is no record.
      if (row.record.length === 1 && row.record[0]!.trim() === '') continue;
      yield delimitedRecord(header, row.record, row.raw, row.info.lines);
    }
  } catch (err) {
    throw new SourceFormatError(
      `${path} is not readable as ${delimiter === '\t' ? 'TSV' : 'CSV'}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}
