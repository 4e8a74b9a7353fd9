import { randomBytes } from 'node:crypto';
import t from 'tap';
import { Sealer } from '../src/store/index.ts';

const key = randomBytes(32).toString('base64');

t.test('a sealed value opens only with the same key under the same key name', async (t) => {
  const sealer = new Sealer(key);
  const secret = 'eyJhbGciOiJSUzI1NiJ9.payload.signature';
  const sealed = sealer.seal(secret, 'p:token:abc');
  t.notOk(sealed.includes('eyJhbGci') || sealed.includes('payload'), 'nothing of the token shows');
  t.match(sealed, new RegExp(`^v1\\.${sealer.keyId}\\.`), 'version and key id in the value');
  t.equal(sealer.open(sealed, 'p:token:abc'), secret);
  t.not(sealer.seal(secret, 'p:token:abc'), sealed, 'a random IV per value');
  t.equal(sealer.open(sealed, 'p:token:other'), undefined, 'moved to another key name: does not open');
  t.equal(new Sealer(randomBytes(32).toString('base64')).open(sealed, 'p:token:abc'), undefined, 'another key: does not open');
  const parts = sealed.split('.');
  const body = Buffer.from(parts[3]!, 'base64url');
  body[0] = body[0]! ^ 1;
  t.equal(sealer.open([...parts.slice(0, 3), body.toString('base64url')].join('.'), 'p:token:abc'), undefined, 'tampered: does not open');
  t.equal(sealer.open('garbage', 'p:token:abc'), undefined);
  // The key id and version are not in the ciphertext: only open's own check refuses a value relabelled to another key or format.
  const relabelled = (at: number, text: string): string => parts.map((part, i) => (i === at ? text : part)).join('.');
  t.equal(sealer.open(relabelled(1, new Sealer(randomBytes(32).toString('base64')).keyId), 'p:token:abc'), undefined, 'labelled with another key id: does not open');
  t.equal(sealer.open(relabelled(0, 'v2'), 'p:token:abc'), undefined, 'labelled with another format version: does not open');
  t.equal(sealer.open(relabelled(1, sealer.keyId), 'p:token:abc'), secret, 'the same labels still open (the relabelling is what is refused)');
});

t.test('key names hide the identity and depend on the key', async (t) => {
  const a = new Sealer(key);
  const identity = ['client-id-123', 'https://sso.example/token', '/glp/global'];
  const name = a.name(identity);
  t.match(name, /^[0-9a-f]{32}$/);
  t.equal(a.name(identity), name, 'stable: every replica finds the same slot');
  t.not(a.name([...identity.slice(0, 2), '/glp/eu']), name, 'another region, another slot');
  t.not(new Sealer(randomBytes(32).toString('base64')).name(identity), name, 'another key, another name: not guessable from a client ID');
  t.notOk(a.keyId.length > 8 || key.includes(a.keyId), 'the key id is short and not part of the key');
});

t.test('a key that is not 32 bytes is refused', async (t) => {
  t.throws(() => new Sealer(randomBytes(16).toString('base64')), { message: /32 bytes/ });
});
