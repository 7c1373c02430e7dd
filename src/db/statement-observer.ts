// Every SQL statement sent to the database can be observed: each one Prisma sends passes
// through the driver adapter (./driver-adapter.ts), and Database.query reports its own.
// This is how tests and the benchmark count statements on the wire rather than estimating
// them (test/helpers/record-statements.ts). An observer sees only the statements of the
// work it was installed around (through AsyncLocalStorage), so concurrent requests never
// see each other's statements.
import { AsyncLocalStorage } from 'node:async_hooks';

export type StatementObserver = (sql: string) => void;

const observers = new AsyncLocalStorage<StatementObserver>();

/** Runs `work`, passing the SQL of every statement it (and only it) sends to `observer`. */
export function observingStatements<T>(observer: StatementObserver, work: () => T): T {
  return observers.run(observer, work);
}

/** Runs `work` unobserved: for bookkeeping that is not part of the request. */
export function unobserved<T>(work: () => T): T {
  return observers.exit(work);
}

/** Reports a statement to the observer of the work sending it, if any. */
export function observeStatement(sql: string): void {
  observers.getStore()?.(sql);
}
