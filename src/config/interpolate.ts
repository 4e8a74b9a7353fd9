import { childPath, type Problem } from './errors.ts';

export type Environment = Readonly<Record<string, string | undefined>>;

export interface Interpolated {
  readonly value: unknown;
  readonly problems: readonly Problem[];
  /** Every `${NAME}` replaced, with the key path of its value. */
  readonly references: readonly Reference[];
}

export interface Reference {
  readonly path: string;
  readonly name: string;
}

// `$${` is an escaped literal `${`; `${NAME}` is a reference; any other `${` is a mistake.
const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\{/g;

/**
 * Replaces `${VAR}` in every string value (never in keys) with the environment's value.
 * Single pass: a substituted value is never interpolated again, so a secret containing `${` stays intact.
 */
export function interpolateEnvironment(value: unknown, env: Environment): Interpolated {
  const found: Found = { problems: [], references: [] };
  const result = interpolateValue(value, '', env, found);
  return { value: result, ...found };
}

interface Found {
  readonly problems: Problem[];
  readonly references: Reference[];
}

function interpolateValue(value: unknown, path: string, env: Environment, found: Found): unknown {
  if (typeof value === 'string') return interpolateString(value, path, env, found);
  if (Array.isArray(value)) {
    return value.map((item: unknown, index) => interpolateValue(item, childPath(path, index), env, found));
  }
  if (isPlainObject(value)) {
    const entries = Object.entries(value).map(([key, item]) => [key, interpolateValue(item, childPath(path, key), env, found)]);
    return Object.fromEntries(entries);
  }
  return value;
}

function interpolateString(text: string, path: string, env: Environment, found: Found): string {
  return text.replace(REFERENCE, (match, name: string | undefined) => {
    if (match === '$${') return '${';
    if (name === undefined) {
      found.problems.push({ path, message: 'malformed ${...} reference: use ${NAME} with letters, digits and _, or $${ for a literal ${' });
      return match;
    }
    const replacement = env[name];
    if (replacement === undefined) {
      found.problems.push({ path, message: `environment variable ${name} is not set` });
      return match;
    }
    found.references.push({ path, name });
    return replacement;
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
