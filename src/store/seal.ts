/**
 * What goes into Redis is sealed with AES-256-GCM: a random IV per value, the key's id in the
 * value (a rotated key is recognised, not misread), and the Redis key name as associated data
 * (a value moved to another key name does not open). Without the key a value is useless.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class Sealer {
  readonly #key: Buffer;
  readonly #namingKey: Buffer;
  /** Names the key without revealing it: an HMAC of a constant, 8 hex digits. */
  readonly keyId: string;

  /** `keyBase64`: 32 bytes in base64, already validated by the configuration. */
  constructor(keyBase64: string) {
    this.#key = Buffer.from(keyBase64, 'base64');
    if (this.#key.length !== 32) throw new Error('the encryption key must be 32 bytes');
    this.keyId = createHmac('sha256', this.#key).update('greenlake-proxy key id').digest('hex').slice(0, 8);
    this.#namingKey = createHmac('sha256', this.#key).update('greenlake-proxy key names').digest();
  }

  /** A key-name part for `identity` that neither shows nor lets one guess it without the key. */
  name(identity: readonly string[]): string {
    return createHmac('sha256', this.#namingKey).update(JSON.stringify(identity)).digest('hex').slice(0, 32);
  }

  seal(plaintext: string, keyName: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(keyName));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return [VERSION, this.keyId, iv.toString('base64url'), body.toString('base64url')].join('.');
  }

  /** The plaintext, or undefined when the value is not ours: another key, another key name, or tampered with. */
  open(value: string, keyName: string): string | undefined {
    const [version, keyId, ivText, bodyText, extra] = value.split('.');
    if (version !== VERSION || keyId !== this.keyId || ivText === undefined || bodyText === undefined || extra !== undefined) return undefined;
    const iv = Buffer.from(ivText, 'base64url');
    const body = Buffer.from(bodyText, 'base64url');
    if (iv.length !== IV_BYTES || body.length < TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(keyName));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}
