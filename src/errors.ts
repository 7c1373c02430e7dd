// Expected failures of mutations: user errors returned in the payload (the GraphQL type
// UserError, src/schema/mutation.ts), never thrown to the client. This module is also the one place that turns database errors that a client
// can cause (a unique value taken by a concurrent request) into user errors.
import { Prisma } from './generated/prisma/client.js';

export const USER_ERROR_CODES = [
  'INVALID',
  'NOT_FOUND',
  'TAKEN',
  'FORBIDDEN',
  'LIMIT_EXCEEDED',
  'OUTSIDE_SERVICE_WINDOW',
] as const;
export type UserErrorCode = (typeof USER_ERROR_CODES)[number];

/** One user error, as the GraphQL type UserError shows it. */
export interface UserErrorShape {
  /** Path to the input field at fault, e.g. ["input", "contacts", "3", "phone"]. */
  field: string[] | null;
  message: string;
  code: UserErrorCode;
}

/** Thrown inside a mutation to abort it (its transaction rolls back) with these errors. */
export class UserErrors extends Error {
  override name = 'UserErrors';
  constructor(readonly errors: UserErrorShape[]) {
    super(errors.map((error) => error.message).join('; '));
  }
}

/** Unique constraints a client can run into, by the column they protect. */
const UNIQUE_COLUMNS: Record<string, { column: string; message: string }> = {
  Contact_organizationId_phone_key: { column: 'phone', message: 'A contact with this phone number already exists.' },
  Tag_organizationId_label_lower_key: { column: 'label', message: 'A tag with this label already exists.' },
  // Unique across organizations (the webhook routes by it); the message does not say whose it is.
  WhatsAppChannel_phoneNumberId_key: {
    column: 'phoneNumberId',
    message:
      'This phone-number id is already connected as a WhatsApp channel; a phone number can be connected only once.',
  },
};

interface AdapterCause {
  kind?: string;
  code?: string;
  message?: string;
  constraint?: { index?: string; fields?: string[] };
}

/** The name of the unique constraint a database error reports as violated, if it is one. */
function violatedUniqueConstraint(error: unknown): string | undefined {
  let cause: AdapterCause | undefined;
  if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
    cause = adapterCause(error);
  } else if (error instanceof Error && error.name === 'DriverAdapterError') {
    // Adapters pass some violations through as raw PostgreSQL errors (SQLSTATE 23505),
    // e.g. those of expression indexes, whose columns they cannot parse.
    const raw = adapterCause(error);
    if (raw?.kind === 'postgres' && raw.code === '23505') cause = raw;
  }
  if (!cause) return undefined;
  if (cause.constraint?.index) return cause.constraint.index;
  const named = /unique constraint "([^"]+)"/.exec(cause.message ?? '')?.[1];
  if (named) return named;
  const fields = cause.constraint?.fields?.map((field) => field.replace(/"/g, ''));
  if (fields?.includes('phone')) return 'Contact_organizationId_phone_key';
  if (fields?.includes('phoneNumberId')) return 'WhatsAppChannel_phoneNumberId_key';
  if (fields?.some((field) => field.includes('label'))) return 'Tag_organizationId_label_lower_key';
  return undefined;
}

/**
 * The user error a database error stands for, or undefined for an unexpected error.
 * `fieldOf` maps the column at fault to the input path (default: ["input", column]).
 */
export function userErrorFromDatabase(
  error: unknown,
  fieldOf: (column: string) => string[] = (column) => ['input', column],
): UserErrorShape | undefined {
  const constraint = violatedUniqueConstraint(error);
  const known = constraint ? UNIQUE_COLUMNS[constraint] : undefined;
  if (!known) return undefined;
  return { field: fieldOf(known.column), message: known.message, code: 'TAKEN' };
}

/** The driver adapter's account of a database error, wherever Prisma put it. */
function adapterCause(error: unknown): AdapterCause | undefined {
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    return (error.meta?.driverAdapterError as { cause?: AdapterCause } | undefined)?.cause;
  }
  if (error instanceof Error && error.name === 'DriverAdapterError')
    return (error as Error & { cause?: AdapterCause }).cause;
  return undefined;
}

/**
 * Whether PostgreSQL cancelled a statement at its statement_timeout (SQLSTATE 57014), whether
 * it came straight from the driver (the loaders' SQL) or through Prisma.
 */
export function isStatementTimeout(error: unknown): boolean {
  if (error instanceof Error && (error as Error & { code?: unknown }).code === '57014') return true;
  const cause = adapterCause(error);
  return cause?.kind === 'postgres' && cause.code === '57014';
}

/**
 * Whether a transaction failed only because a concurrent one got in its way and running it
 * again may well succeed: a deadlock (SQLSTATE 40P01; PostgreSQL aborts one of the
 * transactions in the cycle) or a serialization failure (40001, Prisma's P2034).
 */
export function isTransientConflict(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2034') return true;
  const cause = adapterCause(error);
  if (cause?.kind === 'TransactionWriteConflict') return true;
  return cause?.kind === 'postgres' && (cause.code === '40P01' || cause.code === '40001');
}
