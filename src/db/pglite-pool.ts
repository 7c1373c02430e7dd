// A `pg.Pool` look-alike over the embedded database's one connection, for graphile-worker
// (src/jobs/), which takes a pool and nothing else. PGlite is a single session, so every
// "client" of this pool is the same session:
//
// - Each statement runs through PGlite's own exclusive queue (`query`, `exec`): it waits for
//   a transaction in progress (a mutation's, through Prisma) to end, so a job claim never
//   reads or writes inside someone else's transaction.
// - A client that sends `begin` gets a PGlite transaction of its own: its statements run
//   inside it, and everything else waits, until it sends `commit` or `rollback`.
// - `LISTEN` works as on PostgreSQL: PGlite delivers NOTIFY (sent on commit of any
//   transaction of the session, `graphile_worker.add_job` sends one) to `onNotification`,
//   passed on as the `notification` event that graphile-worker's listener waits for.
//
// Measured: graphile-worker 0.18 over this pool installs its schema, and jobs added inside a
// Prisma transaction run once it commits (test/jobs.test.ts). The alternative,
// @electric-sql/pglite-socket (PGlite over the wire protocol), installed the schema too but
// its worker stalled after the first job in our trial, and it would put a second copy of
// PGlite and a TCP port into the embedded default.
import { EventEmitter } from 'node:events';
import type { PGlite, Transaction } from '@electric-sql/pglite';

type QueryConfig = { text: string; values?: unknown[]; name?: string };
interface QueryResult {
  rows: Record<string, unknown>[];
  rowCount: number;
}
type ConnectCallback = (error: Error | undefined, client?: PGlitePoolClient, release?: () => void) => void;

export class PGlitePoolClient extends EventEmitter {
  #transaction: { tx: Transaction; finish: (commit: boolean) => void; done: Promise<unknown> } | undefined;
  #unsubscribe: (() => void) | undefined;
  readonly #channels = new Set<string>();

  constructor(readonly pglite: PGlite) {
    super();
  }

  async query(textOrConfig: string | QueryConfig, values?: unknown[]): Promise<QueryResult> {
    const text = typeof textOrConfig === 'string' ? textOrConfig : textOrConfig.text;
    const params = typeof textOrConfig === 'string' ? values : textOrConfig.values;
    const word = text.trim().toLowerCase().replace(/;$/, '');
    if (word === 'begin') return this.#begin();
    if (word === 'commit' || word === 'rollback') return this.#end(word === 'commit');
    if (/^\s*(un)?listen\b/i.test(text)) return this.#listen(text);
    const target = this.#transaction?.tx ?? this.pglite;
    if (params === undefined || params.length === 0) {
      // Several statements without parameters (graphile-worker's migrations): the simple protocol.
      const results = await target.exec(text);
      const last = results.at(-1);
      return { rows: (last?.rows ?? []) as Record<string, unknown>[], rowCount: last?.affectedRows ?? 0 };
    }
    const result = await target.query<Record<string, unknown>>(text, params);
    return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
  }

  async #begin(): Promise<QueryResult> {
    if (this.#transaction) throw new Error('a transaction is already open on this client');
    await new Promise<void>((started, failed) => {
      let finish!: (commit: boolean) => void;
      const decided = new Promise<boolean>((resolve) => (finish = resolve));
      let opened = false;
      const done = this.pglite.transaction(async (tx) => {
        opened = true;
        this.#transaction = { tx, finish, done };
        started();
        if (!(await decided)) await tx.rollback();
      });
      // Before it opened (a closed database) the `begin` fails; after, a failed commit is
      // reported by `commit` (#end awaits `done`).
      done.catch((error: unknown) => {
        if (!opened) failed(error);
      });
    });
    return { rows: [], rowCount: 0 };
  }

  async #end(commit: boolean): Promise<QueryResult> {
    const open = this.#transaction;
    if (!open) return { rows: [], rowCount: 0 };
    this.#transaction = undefined;
    open.finish(commit);
    await open.done;
    return { rows: [], rowCount: 0 };
  }

  async #listen(script: string): Promise<QueryResult> {
    await this.pglite.exec(script);
    for (const [, unlisten, quoted, bare] of script.matchAll(/\b(un)?listen\s+(?:"([^"]+)"|(\w+))/gi)) {
      const channel = quoted ?? bare;
      if (channel === undefined) continue;
      if (unlisten) this.#channels.delete(channel);
      else this.#channels.add(channel);
    }
    if (this.#channels.size > 0 && !this.#unsubscribe) {
      this.#unsubscribe = this.pglite.onNotification((channel, payload) => {
        if (this.#channels.has(channel)) this.emit('notification', { channel, payload });
      });
    } else if (this.#channels.size === 0 && this.#unsubscribe) {
      this.#unsubscribe();
      this.#unsubscribe = undefined;
    }
    return { rows: [], rowCount: 0 };
  }

  release(): void {
    // An abandoned transaction must not hold the session.
    if (this.#transaction) this.#end(false).catch(() => {});
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#channels.clear();
  }
}

export class PGlitePool extends EventEmitter {
  constructor(readonly pglite: PGlite) {
    super();
    // graphile-worker warns about a pool without these; this one never emits them (errors
    // reach the caller of each statement).
    this.on('error', () => {});
    this.on('connect', () => {});
  }

  connect(): Promise<PGlitePoolClient>;
  connect(callback: ConnectCallback): void;
  connect(callback?: ConnectCallback): Promise<PGlitePoolClient> | undefined {
    const client = new PGlitePoolClient(this.pglite);
    if (!callback) return Promise.resolve(client);
    queueMicrotask(() => callback(undefined, client, () => client.release()));
    return undefined;
  }

  async query(textOrConfig: string | QueryConfig, values?: unknown[]): Promise<QueryResult> {
    const client = new PGlitePoolClient(this.pglite);
    try {
      return await client.query(textOrConfig, values);
    } finally {
      client.release();
    }
  }

  async end(): Promise<void> {}
}
