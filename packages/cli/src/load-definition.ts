/**
 * Reads a workflow definition file (JSON or YAML) for the CLI (`validate`, `run`). Every way
 * this can go wrong ends in a result with a code and a message that says what to fix; nothing
 * here throws for a user's mistake.
 *
 * - Format: `.json` is JSON, `.yaml`/`.yml` is YAML; any other name is tried as JSON, then YAML.
 * - Size: files above MAX_DEFINITION_BYTES are refused before being read (a 10,000-node
 *   definition is about 2 MB, so the cap leaves ample room while bounding memory and time).
 * - YAML aliases are capped, so a "billion laughs" document cannot expand without bound.
 */
import { readFile, stat } from 'node:fs/promises';
import { type DefinitionTextResult, parseDefinitionText } from '@trellis/core';

export const MAX_DEFINITION_BYTES = 10 * 1024 * 1024;

export type LoadErrorCode = 'FILE_NOT_FOUND' | 'FILE_UNREADABLE' | 'FILE_TOO_LARGE' | 'FILE_EMPTY' | 'PARSE_ERROR';

/**
 * `io: true` when the file could not be read at all (exit 2 in the CLI); `io: false` when it was
 * read but its content is empty or not JSON/YAML (an invalid definition, exit 1).
 */
export type LoadResult = DefinitionTextResult | { ok: false; code: LoadErrorCode; message: string; io: true };

export async function loadDefinitionFile(path: string, maxBytes = MAX_DEFINITION_BYTES): Promise<LoadResult> {
  let size: number;
  try {
    const st = await stat(path);
    if (st.isDirectory()) return ioError('FILE_UNREADABLE', `${path} is a directory; give the path of a .json or .yaml file`);
    size = st.size;
  } catch (err) {
    return fromFsError(path, err);
  }
  if (size > maxBytes) {
    return ioError(
      'FILE_TOO_LARGE',
      `${path} is ${formatBytes(size)}; definitions are limited to ${formatBytes(maxBytes)} — split the workflow`,
    );
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return fromFsError(path, err);
  }
  return parseDefinitionText(text, path);
}

function fromFsError(path: string, err: unknown): LoadResult {
  const code = (err as { code?: unknown }).code;
  if (code === 'ENOENT') return ioError('FILE_NOT_FOUND', `${path}: no such file; check the path`);
  if (code === 'EACCES' || code === 'EPERM') return ioError('FILE_UNREADABLE', `${path}: permission denied`);
  if (code === 'EISDIR') return ioError('FILE_UNREADABLE', `${path} is a directory; give the path of a .json or .yaml file`);
  return ioError('FILE_UNREADABLE', `${path}: cannot be read (${typeof code === 'string' ? code : 'unknown error'})`);
}

function ioError(code: LoadErrorCode, message: string): LoadResult {
  return { ok: false, code, message, io: true };
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${n} bytes`;
}
