/** One thing wrong with a configuration: where (a key path such as `clients[1].clientSecret`) and what. */
export interface Problem {
  /** Empty when the problem concerns the configuration as a whole. */
  readonly path: string;
  readonly message: string;
}

export class ConfigError extends Error {
  readonly code = 'GREENLAKE_PROXY_CONFIG_INVALID';
  /** Each like `clients[1].clientSecret: missing`. Never contains a configured value. */
  readonly problems: readonly string[];

  /** `source` names where the configuration came from (`config file /x.yaml`, `environment`); it prefixes each line. */
  constructor(source: string, problems: readonly string[]) {
    super(problems.map((problem) => `${source}: ${problem}`).join('\n'));
    this.name = 'ConfigError';
    this.problems = Object.freeze([...problems]);
  }
}

export function formatProblem(problem: Problem): string {
  return problem.path === '' ? problem.message : `${problem.path}: ${problem.message}`;
}

/** `['clients', 1, 'clientSecret']` → `clients[1].clientSecret`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else text += text === '' ? String(key) : `.${String(key)}`;
  }
  return text;
}

export function childPath(parent: string, key: string | number): string {
  return formatPath(parent === '' ? [key] : [parent, key]);
}

export function throwIfProblems(source: string, problems: readonly Problem[]): void {
  if (problems.length > 0) throw new ConfigError(source, problems.map(formatProblem));
}

/** The errno code of a failed file operation (`ENOENT`): never its message, which could quote content. */
export function errorCode(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  return typeof code === 'string' ? code : 'unknown error';
}
