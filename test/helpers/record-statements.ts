// Counting statements on the wire: every statement a piece of work sends, and only those
// (src/db/statement-observer.ts attributes statements through AsyncLocalStorage).
import { observingStatements } from '../../src/db/statement-observer.js';

/** Runs `work`, collecting the SQL of every statement it (and only it) sends. */
export async function recordStatements<T>(work: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  const statements: string[] = [];
  const result = await observingStatements((sql) => statements.push(sql), work);
  return { result, statements };
}
