/**
 * Splits a JSON document holding an array of records into the text of each element, chunk by
 * chunk, so a large file never sits in memory whole. The array is either the document itself or
 * the first array-valued property of a top-level object (`{"products": [...]}`).
 */
export class JsonArraySplitter {
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Depth of the record elements, once the array is found. */
  private elementDepth = -1;
  private topIsObject = false;
  private started = false;
  private finished = false;
  private pending = '';
  private capturing = false;
  /** Set once the top-level value has closed. */
  private topClosed = false;
  private trailingValue = false;

  /** Feeds the next chunk of text; returns the complete elements it closed. */
  push(chunk: string): string[] {
    const out: string[] = [];
    let start = this.capturing ? 0 : -1;

    for (let i = 0; i < chunk.length && !this.trailingValue; i++) {
      const c = chunk.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 92 /* \ */) this.escaped = true;
        else if (c === 34 /* " */) this.inString = false;
        continue;
      }
      if (c === 32 || c === 10 || c === 13 || c === 9) continue;
      if (this.finished) {
        this.trackAfterRecords(c);
        continue;
      }

      if (!this.started) {
        this.started = true;
        this.topIsObject = c === 123; /* { */
      }
      const atElementLevel = this.depth === this.elementDepth;

      if (atElementLevel && !this.capturing && c !== 44 /* , */ && c !== 93 /* ] */) {
        this.capturing = true;
        start = i;
      }
      if (c === 34) {
        this.inString = true;
      } else if (c === 123 || c === 91 /* [ */) {
        if (this.elementDepth < 0 && c === 91 && this.depth === (this.topIsObject ? 1 : 0)) {
          this.elementDepth = this.depth + 1;
        }
        this.depth++;
      } else if (c === 125 /* } */ || c === 93) {
        this.depth--;
        if (this.capturing && this.depth === this.elementDepth) {
          out.push(this.take(chunk, start, i + 1));
          start = -1;
        } else if (this.depth < this.elementDepth) {
          if (this.capturing) out.push(this.take(chunk, start, i));
          this.finished = true;
          this.topClosed = this.depth === 0;
        }
      } else if (c === 44 && atElementLevel && this.capturing) {
        out.push(this.take(chunk, start, i));
        start = -1;
      }
    }
    if (this.capturing && start >= 0) this.pending += chunk.slice(start);
    return out;
  }

  /**
   * After the records array: follows the rest of the document (a wrapper object's other keys)
   * and notes any value after it, as in JSON Lines, whose first line's first array would
   * otherwise be taken for the records and the other lines ignored.
   */
  private trackAfterRecords(c: number): void {
    if (this.topClosed) {
      this.trailingValue = true;
    } else if (c === 34) {
      this.inString = true;
    } else if (c === 123 || c === 91) {
      this.depth++;
    } else if (c === 125 || c === 93) {
      this.depth--;
      this.topClosed = this.depth === 0;
    }
  }

  /** Whether another JSON value follows the document: the file is not one JSON document. */
  get trailing(): boolean {
    return this.trailingValue;
  }

  /** Whether the document ended cleanly; false means it was truncated or held no array. */
  get complete(): boolean {
    return this.finished;
  }

  get foundArray(): boolean {
    return this.elementDepth >= 0;
  }

  /** Text of an element cut off by the end of the input, if any. */
  get remainder(): string {
    return this.pending.trim();
  }

  private take(chunk: string, start: number, end: number): string {
    const text = this.pending + chunk.slice(start, end);
    this.pending = '';
    this.capturing = false;
    return text.trim();
  }
}
