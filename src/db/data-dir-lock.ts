// PGlite is one process, one connection: two processes opening the same data directory
// corrupt it (seen in a trial: the next open aborted). A lock file holding the owner's pid makes a second
// process (a seed run beside a running server, say) stop with a clear message instead.
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseOpenError } from './database.js';

export interface DataDirLock {
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireDataDirLock(dir: string): DataDirLock {
  const file = path.join(dir, 'wagraph.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return {
        release: () => {
          try {
            if (fs.readFileSync(file, 'utf8') === String(process.pid)) fs.unlinkSync(file);
          } catch {
            // already gone
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new DatabaseOpenError(`Cannot lock DATA_DIR ${dir}: ${(error as Error).message}`);
      }
      const owner = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
      if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
        throw new DatabaseOpenError(
          `The embedded database in ${dir} is in use by another wagraph process (pid ${owner}); ` +
            'stop it first, or use DATABASE_URL for several processes',
        );
      }
      // A lock left behind by a process that no longer runs (or by ourselves): take it over.
      fs.rmSync(file, { force: true });
    }
  }
  throw new DatabaseOpenError(`Cannot lock DATA_DIR ${dir}`);
}
