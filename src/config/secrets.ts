import { readFile } from 'node:fs/promises';
import { ConfigError, errorCode } from './errors.ts';
import type { ClientConfig } from './types.ts';

/**
 * The client's secret. A file is read again at every call (Kubernetes rotates mounted secrets in
 * place), minus one trailing newline. Errors name the file and the errno code, never the content.
 */
export async function readSecret(client: Pick<ClientConfig, 'name' | 'secret'>): Promise<string> {
  const where = `client ${client.name}`;
  if (client.secret.kind === 'value') {
    if (client.secret.value === '') throw new ConfigError(where, ['clientSecret: is empty']);
    return client.secret.value;
  }
  const file = client.secret.path;
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(where, [`clientSecretFile: cannot read ${file} (${errorCode(error)})`]);
  }
  const secret = withoutOneTrailingNewline(content);
  if (secret === '') throw new ConfigError(where, [`clientSecretFile: ${file} is empty`]);
  return secret;
}

function withoutOneTrailingNewline(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  if (text.endsWith('\n')) return text.slice(0, -1);
  return text;
}
