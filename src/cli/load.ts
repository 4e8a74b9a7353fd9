import { loadConfig, type ProxyConfig } from '../config/index.ts';
import type { CliOptions, Env } from './command.ts';

export function loadFromCli(options: CliOptions, env: Env): Promise<ProxyConfig> {
  return loadConfig({
    ...(options.config !== undefined && { file: options.config }),
    env,
    overrides: {
      ...(options.host !== undefined && { host: options.host }),
      ...(options.port !== undefined && { port: options.port }),
      ...(options.socket !== undefined && { socket: options.socket }),
      allowUnauthenticated: options.allowUnauthenticated,
    },
  });
}
