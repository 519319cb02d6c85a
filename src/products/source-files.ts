import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { SourceNotAllowedError, SourceNotFoundError } from '../errors';

/**
 * The directories a worker may read source and mapping files from. A workflow input names a
 * path, and anyone who can start a workflow can name any path: without this, a worker would read
 * `/etc/shadow` and keep its lines as rejected records. Paths are checked after resolving
 * symbolic links, so a link inside a root cannot lead outside it.
 */
export class SourceFileRoots {
  private constructor(
    /** Real paths of the roots, as given to `open`. */
    readonly roots: readonly string[],
  ) {}

  /** Roots that do not exist are kept as written: they allow nothing until they appear. */
  static async of(roots: readonly string[]): Promise<SourceFileRoots> {
    const real = await Promise.all(
      roots.map((root) => realpath(resolve(root)).catch(() => resolve(root))),
    );
    return new SourceFileRoots([...new Set(real)]);
  }

  /** The real path of `path`, or an error naming the file and the setting that would allow it. */
  async resolve(path: string, what = 'source file'): Promise<string> {
    let real: string;
    try {
      real = await realpath(resolve(path));
    } catch (err) {
      // Outside the roots, say only that: whether such a file exists is not the caller's business.
      if (!this.allows(resolve(path))) throw this.notAllowed(path, what);
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new SourceNotFoundError(`cannot read ${what} ${path}: ${code}`);
    }
    if (this.allows(real)) return real;
    throw this.notAllowed(path, what);
  }

  private allows(path: string): boolean {
    return this.roots.some((root) => isInside(root, path));
  }

  private notAllowed(path: string, what: string): SourceNotAllowedError {
    return new SourceNotAllowedError(
      `${what} ${path} is outside the directories this worker reads from ` +
        `(${this.roots.join(', ') || 'none'}); add its directory to SOURCE_FILE_ROOTS`,
    );
  }
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}
