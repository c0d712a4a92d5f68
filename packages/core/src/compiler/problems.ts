/** Collects the problems of one compilation; every check appends, none stops the others. */
import type { ValidationCode, ValidationError } from '../errors.ts';

export class Problems {
  readonly errors: ValidationError[] = [];
  readonly warnings: ValidationError[] = [];

  error(code: ValidationCode, message: string, path?: string, nodes?: string[]): void {
    this.errors.push(make(code, message, path, nodes));
  }

  warn(code: ValidationCode, message: string, path?: string, nodes?: string[]): void {
    this.warnings.push(make(code, message, path, nodes));
  }
}

function make(code: ValidationCode, message: string, path: string | undefined, nodes: string[] | undefined): ValidationError {
  const e: ValidationError = { code, message };
  if (nodes !== undefined && nodes.length > 0) e.nodes = nodes;
  if (path !== undefined) e.path = path;
  return e;
}
