import { TrellisError } from '@trellis/core';

/** Opening a database failed in a way the user must fix (wrong file, corrupt file, newer schema). */
export class StoreOpenError extends TrellisError {
  constructor(message: string, cause?: unknown) {
    super('STORE_OPEN_FAILED', message, { category: 'user', cause });
    this.name = 'StoreOpenError';
  }
}
