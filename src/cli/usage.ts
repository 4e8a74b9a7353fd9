import { COMMANDS, OPTIONS, type CommandName, type CommandSpec, type OptionName, type OptionSpec } from './commands.ts';
import { VARIABLES } from './environment.ts';

const INDENT = 23;
const VARIABLE_INDENT = 32;

/** `greenlake-proxy --help`: every command, how to get one command's help, the environment. */
export function usage(): string {
  const commands = Object.entries(COMMANDS).map(([name, spec]) => row(name, spec.summary));
  return [
    'greenlake-proxy: a local authenticating reverse proxy for HPE GreenLake APIs',
    '',
    'Usage: greenlake-proxy [command] [options]',
    '',
    'Commands:',
    ...commands,
    row('help [command]', 'This text, or one command\'s options'),
    '',
    'Run greenlake-proxy help COMMAND (or COMMAND --help) for its options. --version prints the version.',
    '',
    'Environment:',
    ...VARIABLES.map((v) => row(v.name, v.help, VARIABLE_INDENT)),
    '',
    EXIT_STATUS,
  ].join('\n');
}

/** `greenlake-proxy help token`, `greenlake-proxy token --help`. */
export function commandUsage(name: CommandName): string {
  const spec: CommandSpec = COMMANDS[name];
  const options: readonly OptionName[] = [...spec.options, 'help'];
  return [
    `Usage: greenlake-proxy ${name} [options]${spec.operands === undefined ? '' : ` ${spec.operands}`}`,
    '',
    `${spec.summary}.`,
    spec.details,
    '',
    'Options:',
    ...options.map((option) => row(optionLabel(option), spec.optionHelp?.[option] ?? OPTIONS[option].help)),
    '',
    spec.exitStatus ?? EXIT_STATUS,
  ].join('\n');
}

const EXIT_STATUS = 'Exit status: 0 success, 1 failure at run time, 2 bad usage or configuration.\n';

function optionLabel(name: OptionName): string {
  const spec: OptionSpec = OPTIONS[name];
  const long = spec.arg === undefined ? `--${name}` : `--${name} ${spec.arg}`;
  return spec.short === undefined ? long : `${long}, -${spec.short}`;
}

function row(label: string, help: string, indent = INDENT): string {
  const first = `  ${label}`;
  return first.length < indent - 1 ? `${first.padEnd(indent)}${help}` : `${first}\n${' '.repeat(indent)}${help}`;
}
