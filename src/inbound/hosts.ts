import { networkInterfaces } from 'node:os';
import { InboundError } from './errors.ts';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const WILDCARD_ADDRESSES = new Set(['0.0.0.0', '::', '[::]']);

/**
 * The anchored Host allow-list against DNS rebinding: exact names, any port. A page on
 * attacker.example whose name now resolves to 127.0.0.1 still sends `Host: attacker.example`.
 */
export class HostAllowList {
  readonly #names: ReadonlySet<string>;
  /** Host header values already accepted, as sent (`127.0.0.1:8080`): the usual request costs one lookup. */
  readonly #accepted = new Set<string>();

  constructor(listenHost: string, configured: readonly string[]) {
    this.#names = new Set([...LOOPBACK_NAMES, ...listenAddressNames(listenHost), ...configured]);
  }

  check(host: string | undefined): InboundError | undefined {
    if (host === undefined) return notAllowed();
    if (this.#accepted.has(host)) return undefined;
    const name = hostNameOf(host);
    if (name === undefined || !this.#names.has(name)) return notAllowed();
    // Bounded: a caller cycling through ports must not grow it without end.
    if (this.#accepted.size < MAX_REMEMBERED) this.#accepted.add(host);
    return undefined;
  }
}

const MAX_REMEMBERED = 256;

function notAllowed(): InboundError {
  return new InboundError(
    'GREENLAKE_PROXY_HOST_NOT_ALLOWED',
    'the Host header names a host this proxy does not answer for (add it to inbound.allowedHosts)',
  );
}

/**
 * The listen address itself; on a wildcard address, every address of this machine, so that
 * probes and callers using the pod or host IP get through (an IP literal cannot be rebound).
 */
function listenAddressNames(host: string): string[] {
  if (!WILDCARD_ADDRESSES.has(host)) return [asHostHeaderName(host)];
  return Object.values(networkInterfaces())
    .flatMap((addresses) => addresses ?? [])
    .filter((address) => address.scopeid === undefined || address.scopeid === 0)
    .map((address) => asHostHeaderName(address.address));
}

function asHostHeaderName(host: string): string {
  const lower = host.toLowerCase();
  return lower.includes(':') && !lower.startsWith('[') ? `[${lower}]` : lower;
}

/** `Example.com:8080` -> `example.com`, `[::1]:80` -> `[::1]`; undefined when the port is not digits. */
function hostNameOf(host: string): string | undefined {
  const portAt = host.startsWith('[') ? host.indexOf(']') + 1 : host.indexOf(':');
  if (portAt <= 0 || portAt >= host.length) return host.toLowerCase();
  const port = host.slice(portAt);
  return /^:\d{1,5}$/.test(port) ? host.slice(0, portAt).toLowerCase() : undefined;
}
