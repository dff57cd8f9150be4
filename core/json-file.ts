/** Reading a JSON configuration or key file, with one clear error for a missing, unreadable or malformed file. */
import { readFileSync } from 'node:fs';
import { parse, printParseErrorCode, visit } from 'jsonc-parser';

export function readJsonFile(file: string, error: (message: string, cause: unknown) => Error): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw error(`cannot read ${file}: ${cause instanceof Error ? cause.message : String(cause)}`, cause);
  }
}

/**
 * Reads a file an operator writes by hand: JSON with comments (// and /* *\/) and trailing commas (JSONC), so
 * plain JSON too. Every syntax error is reported at once as `FILE:LINE:COLUMN: what`, and so is a key that
 * appears twice in one object (the parser would keep the last silently, which hides a mistake) or a key named
 * __proto__ (the parser assigns it, which would replace the object's prototype instead of adding a field).
 */
export function readJsoncFile(file: string, error: (message: string, cause: unknown) => Error): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw error(`cannot read ${file}: ${cause instanceof Error ? cause.message : String(cause)}`, cause);
  }
  return parseJsonc(text, file, error);
}

/** readJsoncFile for text at hand; `name` is what messages call it. */
export function parseJsonc(text: string, name: string, error: (message: string, cause: unknown) => Error): unknown {
  const problems: string[] = [];
  const at = (line: number, character: number) => `${name}:${line + 1}:${character + 1}`;
  const keysOfOpenObjects: Array<Set<string>> = [];
  visit(text, {
    onError: (code, _offset, _length, line, character) => {
      // "CommaExpected" -> "comma expected"
      problems.push(`${at(line, character)}: ${printParseErrorCode(code).replace(/(?<=[a-z])(?=[A-Z])/g, ' ').toLowerCase()}`);
    },
    onObjectBegin: () => {
      keysOfOpenObjects.push(new Set());
    },
    onObjectEnd: () => {
      keysOfOpenObjects.pop();
    },
    onObjectProperty: (key, _offset, _length, line, character, pathSupplier) => {
      const where = [...pathSupplier(), key].join('.');
      if (key === '__proto__') problems.push(`${at(line, character)}: "${where}": a key named __proto__ is not allowed`);
      const seen = keysOfOpenObjects.at(-1);
      if (seen?.has(key) === true) problems.push(`${at(line, character)}: "${where}" appears twice`);
      seen?.add(key);
    },
  }, { allowTrailingComma: true, disallowComments: false });
  if (problems.length > 0) throw error(`syntax errors in ${name}:\n  ${problems.join('\n  ')}`, undefined);
  return parse(text, [], { allowTrailingComma: true, disallowComments: false });
}
