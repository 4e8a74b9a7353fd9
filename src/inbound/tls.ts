import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { ConfigError, type TlsFilesConfig } from '../config/index.ts';

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** Reads the listener's certificate and key; throws when they are unreadable or do not form a pair. */
export function readTlsFiles(files: TlsFilesConfig): TlsMaterial {
  const material = { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) };
  createSecureContext(material); // throws on bad PEM, or a key that does not match the certificate
  return material;
}

/** At start: a bad pair is a configuration problem (exit 2), reported without the files' content. */
export function readTlsFilesAtStart(files: TlsFilesConfig): TlsMaterial {
  try {
    return readTlsFiles(files);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new ConfigError('listen.tls', [`certFile and keyFile are not a PEM certificate and its key (${typeof code === 'string' ? code : 'unreadable'})`]);
  }
}

/** How often the files' modification times are looked at. */
const POLL_MS = 1_000;
/** A certificate and its key are rarely replaced in the same instant: wait for both before reading. */
const SETTLE_MS = 250;

/**
 * Calls `onChange` with the new pair whenever either file changes (polling stat, so a renewed
 * Kubernetes secret, swapped by symlink, is seen too). A pair that cannot be read goes to
 * `onError`, and the listener keeps the certificate it has. Returns a function that stops watching.
 */
export function watchTlsFiles(files: TlsFilesConfig, onChange: (material: TlsMaterial) => void, onError: (error: unknown) => void): () => void {
  let settle: NodeJS.Timeout | undefined;
  const changed = (current: { mtimeMs: number }, previous: { mtimeMs: number }): void => {
    if (current.mtimeMs === previous.mtimeMs) return;
    clearTimeout(settle);
    settle = setTimeout(reload, SETTLE_MS);
  };
  const reload = (): void => {
    let material: TlsMaterial;
    try {
      material = readTlsFiles(files);
    } catch (error) {
      onError(error);
      return;
    }
    onChange(material);
  };
  for (const file of [files.certFile, files.keyFile]) watchFile(file, { interval: POLL_MS, persistent: false }, changed);
  return () => {
    clearTimeout(settle);
    for (const file of [files.certFile, files.keyFile]) unwatchFile(file, changed);
  };
}
