/**
 * @trellis/store/internal — helpers the other Trellis packages and the tests use that are not
 * part of the public surface (no stability promise between versions).
 */
/** Users and API tokens. */
export { hashToken } from './areas/auth.ts';
/** Trellis on PostgreSQL. */
export { guardPg, isConnectionError, toStoreError } from './postgres.ts';
/** Many workers, one database. */
export { checkNotification, type Notification, type NotificationHandler, runIdsOf } from './runs/lease-store.ts';
/** Row operations and the lowering of domain writes to them (runs/mapping.ts). */
export { lowerWrites, type RowOp, type StoreOp } from './runs/mapping.ts';
/** The runs area on PostgreSQL, and the lease store for many workers. */
export { batchDocument, batchSql, literal } from './runs/pg-run-store.ts';
/** Maps run rows to the run record of SPEC §1 (the API shape). */
export { decodeCursor, encodeCursor, toRunRecord, toRunSummary } from './runs/record.ts';
/** The cipher of the secrets store. */
export { keyIdOf, keyRing } from './secrets/crypto.ts';
/** Where the secrets key comes from. */
export { parseKeyList } from './secrets/key-source.ts';
/** Row types. */
export type {
  AgentsTable,
  ApiTokensTable,
  AttemptsTable,
  EventsTable,
  IdempotencyKeysTable,
  MetaTable,
  NodeRunsTable,
  PermissionsTable,
  RunsTable,
  SecretsTable,
  SignInCodesTable,
  TemplatesTable,
  ToolServersTable,
  TriggerRunsTable,
  TriggersTable,
  UsersTable,
  WebhookDeliveriesTable,
  WorkflowsTable,
  WorkflowVersionsTable,
} from './tables.ts';
