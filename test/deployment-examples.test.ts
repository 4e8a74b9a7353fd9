/**
 * The deployment examples, without a Docker engine (split from container.test.ts so that each
 * file fits tap's per-file timeout on a busy machine): docker-compose.yml is linted with dclint
 * and checked against the proxy's configuration; every proxy configuration in
 * config/kubernetes/*.yaml is loaded the way its container would load it, and its probes are
 * sent to the listener they name.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import YAML from 'yaml';
import { isLoopbackAddress, loadConfig, parseConfig, type ProxyConfig } from '../src/config/index.ts';
import { DEMO_CLIENT } from '../src/emulator/index.ts';
import { createLogger, startGateway } from '../src/server/index.ts';
import { all, envOf, last, parseDockerfile, run } from './helpers/dockerfile.ts';
import { call, client, emulator } from './helpers/index.ts';
import { freePort } from './security/support.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNNING_AS_ROOT = process.getuid?.() === 0;

const finalStage = parseDockerfile(await readFile(path.join(ROOT, 'Dockerfile'), 'utf8')).at(-1)!;

const DCLINT = (() => {
  const manifest = createRequire(import.meta.url).resolve('dclint/package.json');
  const bin = (JSON.parse(readFileSync(manifest, 'utf8')) as { bin: Record<string, string> }).bin.dclint!;
  return path.join(path.dirname(manifest), bin);
})();

t.test('dclint passes docker-compose.yml with no error and no warning', async (t) => {
  const lint = (file: string) => run(process.execPath, [DCLINT, '--config', path.join(ROOT, 'config', 'dclint.yaml'), '--max-warnings', '0', '--color', 'false', file], { cwd: ROOT });
  const res = await lint(path.join(ROOT, 'docker-compose.yml'));
  t.equal(res.code, 0, `dclint: ${res.stdout}${res.stderr}`);

  // It does fail: a compose file with a key Compose does not know.
  const dir = t.testdir({ 'compose.yml': 'services:\n  a:\n    image: "example:1"\n    not_a_compose_key: true\n' });
  const bad = await lint(path.join(dir, 'compose.yml'));
  t.not(bad.code, 0, 'an invalid compose file fails the lint');
  t.match(bad.stdout + bad.stderr, /invalid-schema|additional properties/i);
});

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  ports?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  network_mode?: string;
  read_only?: boolean;
  healthcheck?: { test: string[] };
}

t.test('docker-compose.yml: the proxy loads its mounted config as the container would, and reaches the emulator', async (t) => {
  const compose = YAML.parse(await readFile(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, ComposeService> };
  const { proxy, emulator: emu } = compose.services;
  if (!proxy || !emu) {
    t.fail('services proxy and emulator');
    return;
  }
  t.equal(proxy.image, emu.image, 'the proxy runs the image the emulator service builds');
  t.equal(proxy.network_mode, 'service:emulator', 'one network namespace: the emulator is reached on 127.0.0.1');
  t.ok(proxy.read_only && emu.read_only, 'both root filesystems read-only');

  // The config file the command names is the one the volume mounts.
  const command = proxy.command ?? [];
  const configPath = command[command.indexOf('--config') + 1];
  const mount = (proxy.volumes ?? []).map((v) => v.split(':')).find(([, target]) => target === configPath);
  t.ok(mount, `a volume mounts ${configPath}`);
  const source = path.join(ROOT, mount?.[0] ?? 'missing');

  // The container's environment: the image's ENV, then the service's.
  const env = { ...envOf(finalStage), ...proxy.environment };
  const config = await loadConfig({ file: source, env, overrides: { allowUnauthenticated: command.includes('--allow-unauthenticated') } });
  await t.rejects(
    loadConfig({ file: source, env, overrides: { allowUnauthenticated: false } }),
    /listen\.host/,
    'without --allow-unauthenticated it would not start (it listens on 0.0.0.0)',
  );

  // Published on the host's loopback only: what makes --allow-unauthenticated acceptable.
  const published = (emu.ports ?? []).map((p) => p.split(':'));
  t.same(published.map(([host]) => host), ['127.0.0.1'], 'the one published port is bound to the host\'s loopback');
  t.equal(Number(published[0]?.[2]), config.listen.port, 'the container port published is the port the proxy listens on');

  // Everything the proxy calls is the emulator, on the port its command gives it.
  const emuCommand = emu.command ?? [];
  const emuHost = emuCommand[emuCommand.indexOf('--host') + 1];
  const emuPort = emuCommand[emuCommand.indexOf('--port') + 1];
  const targets = [...config.clients.map((c) => c.tokenUrl), ...config.routes.map((r) => r.upstream)].map((u) => new URL(u));
  t.same([...new Set(targets.map((u) => `${u.hostname}:${u.port}`))], [`${emuHost}:${emuPort}`], 'token URL and upstreams are the emulator');
  t.match(emu.healthcheck?.test.join(' '), `http://${emuHost}:${emuPort}/`, 'the emulator\'s healthcheck asks the emulator');
  t.same(config.clients.map((c) => c.clientId), [DEMO_CLIENT.clientId], 'the emulator\'s demo client');
});

// ---------------------------------------------------------------------------------------------
// Kubernetes examples

interface K8sObject {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: Record<string, unknown>;
}

interface K8sContainer {
  name: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; readOnlyRootFilesystem?: boolean };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}

interface Probe {
  httpGet?: { path: string; port: string | number };
}

interface PodSpec {
  containers: K8sContainer[];
  initContainers?: K8sContainer[];
  volumes?: Array<{ name: string; configMap?: { name: string }; secret?: { secretName: string; items?: Array<{ key: string; path: string }> } }>;
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsUser?: number };
}

const K8S_DIR = path.join(ROOT, 'config', 'kubernetes');

/** What a container gets for a variable taken from a Secret: a stand-in, except that an encryption key must be one (`openssl rand -base64 32`). */
const REDIS_KEY_FROM_A_SECRET = randomBytes(32).toString('base64');
function fromSecret(name: string): string {
  return name === 'GREENLAKE_PROXY_REDIS_KEY' ? REDIS_KEY_FROM_A_SECRET : `${name.toLowerCase()}-from-a-secret`;
}
const manifests = (await readdir(K8S_DIR)).filter((f) => /\.ya?ml$/.test(f)).sort();

t.test('there are Kubernetes examples to check', async (t) => {
  t.ok(manifests.length > 0);
});

for (const file of manifests) {
  t.test(`config/kubernetes/${file}: the proxy's config loads as its container loads it; probes reach what they probe`, async (t) => {
    const documents = YAML.parseAllDocuments(await readFile(path.join(K8S_DIR, file), 'utf8'));
    for (const d of documents) t.same(d.errors.map(String), [], 'valid YAML');
    const objects = documents.map((d) => d.toJS() as K8sObject).filter(Boolean);
    const configMaps = objects.filter((o) => o.kind === 'ConfigMap' && o.data?.['greenlake-proxy.yaml'] !== undefined);
    t.ok(configMaps.length > 0, 'holds a greenlake-proxy.yaml ConfigMap');
    const image = { user: last(finalStage, 'USER')?.args ?? 'root', env: envOf(finalStage) };

    for (const map of configMaps) {
      const raw = YAML.parse(map.data!['greenlake-proxy.yaml']!) as unknown;

      const workloads = objects.filter((o) => o.kind === 'Job' || o.kind === 'Deployment');
      const users = workloads.flatMap((w) => {
        const pod = (w.spec?.template as { spec: PodSpec }).spec;
        const volume = pod.volumes?.find((v) => v.configMap?.name === map.metadata.name);
        const containers = [...(pod.initContainers ?? []), ...pod.containers];
        return volume === undefined ? [] : containers.filter((c) => c.volumeMounts?.some((m) => m.name === volume.name)).map((c) => ({ w, pod, c, volume }));
      });
      t.equal(users.length, 1, `one container mounts ConfigMap ${map.metadata.name}`);

      for (const { w, pod, c, volume } of users) {
        const where = `${w.kind} ${w.metadata.name}, container ${c.name}`;
        // A command of its own replaces the image's ENTRYPOINT: it must still run the proxy's command line with node.
        if (c.command !== undefined) {
          t.equal(c.command[0], 'node', `${where}: command runs node`);
          t.equal(c.command.at(-1), 'src/cli/main.js', `${where}: command runs the image's src/cli/main.js`);
        }
        // The file named by --config is the ConfigMap key, under the mount.
        const args = c.args ?? [];
        const configArg = args[args.indexOf('--config') + 1] ?? '';
        const mountPath = c.volumeMounts!.find((m) => m.name === volume.name)!.mountPath;
        t.equal(path.posix.dirname(configArg), mountPath, `${where}: --config is under the ConfigMap's mount`);
        t.ok(map.data![path.posix.basename(configArg)] !== undefined, `${where}: and names a key of the ConfigMap`);

        // Load it as the container does: the file from the mount, the image's ENV then the container's env.
        const dir = t.testdir({ [path.posix.basename(configArg)]: map.data![path.posix.basename(configArg)]! });
        const env: Record<string, string> = { ...image.env };
        for (const e of c.env ?? []) env[e.name] = e.value ?? fromSecret(e.name);
        t.ok(parseConfig(raw, env, `${file} ConfigMap ${map.metadata.name}`), `${where}: parseConfig accepts ConfigMap ${map.metadata.name} with the container's environment`);
        const config = await loadConfig({ file: path.join(dir, path.posix.basename(configArg)), env, overrides: { allowUnauthenticated: args.includes('--allow-unauthenticated') } });

        // The secret file lies in a mounted Secret, under the item's path.
        for (const cl of config.clients) {
          if (cl.secret.kind !== 'file') continue;
          const file = cl.secret.path;
          const secretMount = c.volumeMounts!.find((m) => path.posix.dirname(file) === m.mountPath);
          const secretVolume = pod.volumes?.find((v) => v.name === secretMount?.name)?.secret;
          t.ok(secretVolume, `${where}: clientSecretFile ${file} is in a mounted Secret`);
          const items = secretVolume?.items;
          t.ok(items === undefined || items.some((i) => i.path === path.posix.basename(file)), `${where}: which has the file ${path.posix.basename(file)}`);
        }

        // Replicas share tokens and budgets only through a store: its key from a Secret, its URL a Service of the manifest.
        const replicas = (w.spec?.['replicas'] as number | undefined) ?? 1;
        if (replicas > 1) t.ok(config.store, `${where}: ${replicas} replicas share tokens through store.redis`);
        if (config.store !== undefined) {
          const keyVar = (c.env ?? []).find((e) => e.name === 'GREENLAKE_PROXY_REDIS_KEY');
          const ref = keyVar?.valueFrom?.secretKeyRef;
          t.ok(ref !== undefined && keyVar?.value === undefined, `${where}: GREENLAKE_PROXY_REDIS_KEY comes from a Secret`);
          t.ok(config.store.redis.encryptionKey === REDIS_KEY_FROM_A_SECRET, `${where}: the store's encryption key is the Secret's`);
          const shipped = objects.find((o) => o.kind === 'Secret' && o.metadata.name === ref?.name);
          if (shipped !== undefined) {
            const placeholder = shipped.stringData?.[ref!.key] ?? Buffer.from(shipped.data?.[ref!.key] ?? '', 'base64').toString();
            const refused = loadConfig({ file: path.join(dir, path.posix.basename(configArg)), env: { ...env, GREENLAKE_PROXY_REDIS_KEY: placeholder }, overrides: { allowUnauthenticated: false } });
            await t.rejects(refused, /store\.redis\.encryptionKey: must be/, `${where}: the key in Secret ${shipped.metadata.name} is a placeholder the proxy refuses`);
          }
          const redisUrl = new URL(config.store.redis.url);
          const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === redisUrl.hostname.split('.')[0]);
          const servicePorts = ((service?.spec?.['ports'] ?? []) as Array<{ port: number }>).map((p) => p.port);
          t.ok(service && servicePorts.includes(Number(redisUrl.port || 6379)), `${where}: store.redis.url names a Service of the manifest on one of its ports`);
        }

        const ports = new Map((c.ports ?? []).map((p) => [p.name ?? String(p.containerPort), p.containerPort]));
        const listenerOf = (port: string | number): 'admin' | 'main' | undefined => {
          const number = typeof port === 'number' ? port : ports.get(port);
          if (number === config.admin?.port) return 'admin';
          if (number === config.listen.port) return 'main';
          return undefined;
        };
        if (ports.has('admin')) t.equal(ports.get('admin'), config.admin?.port, `${where}: port "admin" is admin.port`);
        if (ports.has('http')) t.equal(ports.get('http'), config.listen.port, `${where}: port "http" is listen.port`);
        if (file === 'sidecar.yaml') {
          t.ok(isLoopbackAddress(config.listen.host), `${where}: the sidecar listens on loopback only (${config.listen.host}), the image's 0.0.0.0 overridden`);
        }

        // Kubernetes can only check runAsNonRoot against a numeric user.
        const context = c.securityContext ?? {};
        if (context.runAsNonRoot) {
          const numericUser = context.runAsUser ?? pod.securityContext?.runAsUser ?? (/^\d+(:\d+)?$/.test(image.user) ? Number(image.user.split(':')[0]) : undefined);
          t.ok(numericUser !== undefined && numericUser !== 0, `${where}: runAsNonRoot can be verified (runAsUser or a numeric image USER, not ${image.user})`);
        }
        if (pod.terminationGracePeriodSeconds !== undefined) {
          t.ok(pod.terminationGracePeriodSeconds * 1000 > config.timeouts.shutdownGraceMs, `${where}: terminationGracePeriodSeconds outlasts timeouts.shutdownGraceMs`);
        }

        // Start it (ports 0 and loopback here) and send each probe to the listener its port names.
        const probes = [c.startupProbe, c.readinessProbe, c.livenessProbe].flatMap((p) => (p?.httpGet ? [p.httpGet] : []));
        t.ok(probes.length > 0, `${where}: has HTTP probes`);
        const secretFile = path.join(dir, 'client-secret');
        await writeFile(secretFile, 'not-a-real-secret\n');
        const local: ProxyConfig = {
          ...config,
          listen: { host: '127.0.0.1', port: 0 },
          admin: config.admin && { host: '127.0.0.1', port: 0 },
          clients: config.clients.map((cl) => (cl.secret.kind === 'file' ? { ...cl, secret: { kind: 'file', path: secretFile } } : cl)),
          // No Redis here: a port nothing listens on. The probes must answer all the same (the replica works alone).
          store: config.store && { redis: { ...config.store.redis, url: `redis://127.0.0.1:${await freePort()}` } },
        };
        const gateway = await startGateway(local, createLogger('silent', new Writable({ write: (_c, _e, done) => done() })));
        t.teardown(() => gateway.close(0));
        const http = client(t);
        for (const probe of probes) {
          const listener = listenerOf(probe.port);
          t.ok(listener, `${where}: probe port ${probe.port} is one of the proxy's listeners`);
          const base = listener === 'admin' ? gateway.adminUrl : gateway.url;
          const answer = await call(http, `${base}${probe.path}`);
          t.equal(answer.status, 200, `${where}: ${probe.path} on the ${listener} listener answers 200`);
        }
      }
    }

    for (const service of objects.filter((o) => o.kind === 'Service')) {
      const selector = (service.spec?.selector ?? {}) as Record<string, string>;
      const target = objects.find((o) => {
        const labels = ((o.spec?.template as { metadata?: { labels?: Record<string, string> } } | undefined)?.metadata?.labels ?? {});
        return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
      });
      t.ok(target, `Service ${service.metadata.name} selects a workload`);
      const containers = ((target?.spec?.template as { spec: PodSpec } | undefined)?.spec.containers ?? []);
      const names = containers.flatMap((c) => (c.ports ?? []).map((p) => p.name));
      for (const p of (service.spec?.ports ?? []) as Array<{ targetPort: string | number }>) {
        t.ok(typeof p.targetPort === 'number' || names.includes(p.targetPort), `Service ${service.metadata.name}: targetPort ${p.targetPort} is a container port`);
      }
    }
  });
}
