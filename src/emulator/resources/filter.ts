/**
 * GreenLake's OData-like `filter`: `serialNumber eq 'X'`, `a eq 1 and b ne 'y'`, `c in ('p', 'q')`,
 * `contains(name, 'esx')`, `not`, `or`, parentheses; fields may be nested with `/` (`user/username`).
 */
import type { Item } from './types.ts';

export class FilterError extends Error {}

export type Predicate = (item: Item) => boolean;

type Literal = string | number | boolean | null;
type Token = { kind: 'word' | 'string' | 'number' | 'punct'; text: string; value?: Literal };

const COMPARISONS = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const FUNCTIONS = new Set(['contains', 'startswith', 'endswith']);

/** All filters (repeated `filter` parameters) must hold; an empty one matches everything. */
export function parseFilters(raw: string | string[] | undefined): Predicate {
  const texts = (raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]).filter((text) => text.trim() !== '');
  const predicates = texts.map(parseFilter);
  return (item) => predicates.every((predicate) => predicate(item));
}

export function parseFilter(text: string): Predicate {
  const parser = new Parser(tokenize(text));
  const predicate = parser.expression();
  parser.end();
  return predicate;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    const quoted = /^'((?:[^']|'')*)'|^"((?:[^"\\]|\\.)*)"/.exec(rest);
    if (quoted) {
      const value = quoted[1] !== undefined ? quoted[1].replace(/''/g, "'") : (quoted[2] ?? '').replace(/\\(.)/g, '$1');
      tokens.push({ kind: 'string', text: quoted[0], value });
      i += quoted[0].length;
      continue;
    }
    const number = /^-?\d+(\.\d+)?(?![\w/])/.exec(rest);
    if (number) {
      tokens.push({ kind: 'number', text: number[0], value: Number(number[0]) });
      i += number[0].length;
      continue;
    }
    const word = /^[A-Za-z_][\w.-]*(\/[A-Za-z_][\w.-]*)*/.exec(rest);
    if (word) {
      tokens.push({ kind: 'word', text: word[0] });
      i += word[0].length;
      continue;
    }
    if ('(),'.includes(rest[0] ?? '')) {
      tokens.push({ kind: 'punct', text: rest[0] ?? '' });
      i += 1;
      continue;
    }
    throw new FilterError(`unexpected character ${JSON.stringify(rest[0])} at ${i}`);
  }
  return tokens;
}

class Parser {
  #tokens: Token[];
  #at = 0;

  constructor(tokens: Token[]) {
    this.#tokens = tokens;
  }

  expression(): Predicate {
    let left = this.#conjunction();
    while (this.#acceptWord('or')) {
      const a = left;
      const b = this.#conjunction();
      left = (item) => a(item) || b(item);
    }
    return left;
  }

  end(): void {
    const extra = this.#tokens[this.#at];
    if (extra !== undefined) throw new FilterError(`unexpected ${extra.text}`);
  }

  #conjunction(): Predicate {
    let left = this.#unary();
    while (this.#acceptWord('and')) {
      const a = left;
      const b = this.#unary();
      left = (item) => a(item) && b(item);
    }
    return left;
  }

  #unary(): Predicate {
    if (this.#acceptWord('not')) {
      const inner = this.#unary();
      return (item) => !inner(item);
    }
    if (this.#acceptPunct('(')) {
      const inner = this.expression();
      this.#expectPunct(')');
      return inner;
    }
    const field = this.#expectKind('word', 'a field name').text;
    if (FUNCTIONS.has(field.toLowerCase()) && this.#acceptPunct('(')) return this.#call(field.toLowerCase());
    return this.#comparison(field);
  }

  #call(name: string): Predicate {
    const field = this.#expectKind('word', 'a field name').text;
    this.#expectPunct(',');
    const needle = String(this.#literal());
    this.#expectPunct(')');
    const test =
      name === 'contains' ? (text: string) => text.toLowerCase().includes(needle.toLowerCase())
      : name === 'startswith' ? (text: string) => text.startsWith(needle)
      : (text: string) => text.endsWith(needle);
    return (item) => {
      const value = valueAt(item, field);
      return value !== undefined && value !== null && test(String(value));
    };
  }

  #comparison(field: string): Predicate {
    const operator = this.#expectKind('word', 'an operator (eq, ne, gt, ge, lt, le, in)').text.toLowerCase();
    if (operator === 'in') {
      this.#expectPunct('(');
      const values = [this.#literal()];
      while (this.#acceptPunct(',')) values.push(this.#literal());
      this.#expectPunct(')');
      return (item) => values.some((value) => same(valueAt(item, field), value));
    }
    if (!COMPARISONS.has(operator)) throw new FilterError(`unknown operator ${operator}`);
    const literal = this.#literal();
    return (item) => compare(operator, valueAt(item, field), literal);
  }

  #literal(): Literal {
    const token = this.#tokens[this.#at];
    if (token?.kind === 'string' || token?.kind === 'number') {
      this.#at += 1;
      return token.value ?? null;
    }
    if (token?.kind === 'word' && ['true', 'false', 'null'].includes(token.text)) {
      this.#at += 1;
      return token.text === 'null' ? null : token.text === 'true';
    }
    throw new FilterError(`expected a value, found ${token?.text ?? 'the end'}`);
  }

  #acceptWord(word: string): boolean {
    const token = this.#tokens[this.#at];
    if (token?.kind !== 'word' || token.text.toLowerCase() !== word) return false;
    this.#at += 1;
    return true;
  }

  #acceptPunct(punct: string): boolean {
    if (this.#tokens[this.#at]?.text !== punct || this.#tokens[this.#at]?.kind !== 'punct') return false;
    this.#at += 1;
    return true;
  }

  #expectPunct(punct: string): void {
    if (!this.#acceptPunct(punct)) throw new FilterError(`expected ${punct}, found ${this.#tokens[this.#at]?.text ?? 'the end'}`);
  }

  #expectKind(kind: Token['kind'], what: string): Token {
    const token = this.#tokens[this.#at];
    if (token?.kind !== kind) throw new FilterError(`expected ${what}, found ${token?.text ?? 'the end'}`);
    this.#at += 1;
    return token;
  }
}

function valueAt(item: Item, path: string): unknown {
  let value: unknown = item;
  for (const part of path.split('/')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** 'true' matches true and 5 matches '5': GreenLake's filters quote booleans and numbers alike. */
function same(value: unknown, literal: Literal): boolean {
  if (literal === null) return value === null || value === undefined;
  if (Array.isArray(value)) return value.some((element) => same(element, literal));
  return value !== undefined && value !== null && String(value) === String(literal);
}

function compare(operator: string, value: unknown, literal: Literal): boolean {
  if (operator === 'eq') return same(value, literal);
  if (operator === 'ne') return !same(value, literal);
  if (value === undefined || value === null || literal === null) return false;
  const order =
    typeof value === 'number' && typeof literal === 'number' ? value - literal
    : String(value) < String(literal) ? -1
    : String(value) > String(literal) ? 1
    : 0;
  return operator === 'gt' ? order > 0 : operator === 'ge' ? order >= 0 : operator === 'lt' ? order < 0 : order <= 0;
}
