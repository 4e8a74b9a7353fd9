import { childPath, type Problem } from './errors.ts';

export type Environment = Readonly<Record<string, string | undefined>>;

export interface Interpolated {
  readonly value: unknown;
  readonly problems: readonly Problem[];
}

// `$${` is an escaped literal `${`; `${NAME}` is a reference; any other `${` is a mistake.
const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\{/g;

/**
 * Replaces `${VAR}` in every string value (never in keys) with the environment's value.
 * Single pass: a substituted value is never interpolated again, so a secret containing `${` stays intact.
 */
export function interpolateEnvironment(value: unknown, env: Environment): Interpolated {
  const problems: Problem[] = [];
  const result = interpolateValue(value, '', env, problems);
  return { value: result, problems };
}

function interpolateValue(value: unknown, path: string, env: Environment, problems: Problem[]): unknown {
  if (typeof value === 'string') return interpolateString(value, path, env, problems);
  if (Array.isArray(value)) {
    return value.map((item: unknown, index) => interpolateValue(item, childPath(path, index), env, problems));
  }
  if (isPlainObject(value)) {
    const entries = Object.entries(value).map(([key, item]) => [key, interpolateValue(item, childPath(path, key), env, problems)]);
    return Object.fromEntries(entries);
  }
  return value;
}

function interpolateString(text: string, path: string, env: Environment, problems: Problem[]): string {
  return text.replace(REFERENCE, (match, name: string | undefined) => {
    if (match === '$${') return '${';
    if (name === undefined) {
      problems.push({ path, message: 'malformed ${...} reference: use ${NAME} with letters, digits and _, or $${ for a literal ${' });
      return match;
    }
    const replacement = env[name];
    if (replacement === undefined) {
      problems.push({ path, message: `environment variable ${name} is not set` });
      return match;
    }
    return replacement;
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
