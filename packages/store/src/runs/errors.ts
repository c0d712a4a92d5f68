import { TrellisError } from '@trellis/core';

export class InvalidCursorError extends TrellisError {
  constructor() {
    super('INVALID_CURSOR', 'the cursor is not one this server issued; start again without a cursor', { category: 'user' });
    this.name = 'InvalidCursorError';
  }
}
