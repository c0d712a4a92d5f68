/**
 * Where and why a JSON text is invalid, the same on every Node version (Node 20's `JSON.parse`
 * gives no position for many errors and quotes the text with its raw newlines). Runs only after
 * `JSON.parse` failed: a small scanner of the JSON grammar that stops at the first problem.
 */
export interface JsonProblem {
  /** 1-based line and column of the offending character (or of the end of the text). */
  line: number;
  column: number;
  reason: string;
}

class Stop extends Error {
  constructor(
    readonly at: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export function locateJsonError(text: string): JsonProblem | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const show = (at: number) => (at >= text.length ? 'the end of the text' : `'${JSON.stringify(text[at]).slice(1, -1)}'`);
  const fail = (what: string): never => {
    throw new Stop(i, `${what}, found ${show(i)}`);
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail('expected a value (a string, number, object, array, true, false or null)');
  };
  const string = () => {
    i++; // opening quote
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        return;
      }
      if (c < 32) throw new Stop(i, 'a string cannot contain a raw line break or control character (write \\n)');
      if (c === 92) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) throw new Stop(i, 'a \\u escape needs four hex digits');
          i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) throw new Stop(i, `unknown escape \\${e ?? ''} in a string`);
        i += 2;
        continue;
      }
      i++;
    }
    throw new Stop(i, 'a string is not closed (missing ")');
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '' || m[0] === '-') fail('expected a value (a string, number, object, array, true, false or null)');
    i += (m as RegExpExecArray)[0].length;
  };
  const value = (depth: number): void => {
    if (depth > 10_000) throw new Stop(i, 'nesting is too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"')
          fail(
            text[i] === '}' ? 'a trailing comma before } is not allowed in JSON' : 'expected a property name in double quotes',
          );
        string();
        ws();
        if (text[i] !== ':') fail("expected ':' after a property name");
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail("expected ',' or '}' after a property value");
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] === ']') fail('a trailing comma before ] is not allowed in JSON');
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail("expected ',' or ']' after an array element");
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    number();
  };
  try {
    value(0);
    ws();
    if (i < text.length) fail('unexpected text after the end of the document');
    return undefined;
  } catch (err) {
    if (!(err instanceof Stop)) return undefined;
    let line = 1;
    let column = 1;
    for (let k = 0; k < err.at && k < text.length; k++) {
      if (text.charCodeAt(k) === 10) {
        line++;
        column = 1;
      } else column++;
    }
    return { line, column, reason: err.reason };
  }
}
