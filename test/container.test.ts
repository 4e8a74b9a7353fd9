/**
 * The container image and the deployment examples, without a Docker engine: the Dockerfile is
 * read and its final stage reproduced in a temporary directory (same files, same environment,
 * read-only, an unprivileged user), then its ENTRYPOINT/CMD, HEALTHCHECK and STOPSIGNAL are
 * exercised the way Docker would. The compose file and the Kubernetes examples are run in
 * deployment-examples.test.ts.
 */
import type { SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import YAML from 'yaml';
import { isLoopbackAddress, loadConfig, parseConfig, type ProxyConfig } from '../src/config/index.ts';
import { DEMO_CLIENT } from '../src/emulator/index.ts';
import { createLogger, startGateway } from '../src/server/index.ts';
import { all, envOf, execForm, healthcheckOf, last, parseDockerfile, run, runCommand, runFlags, startListening, withNode, type Stage } from './helpers/dockerfile.ts';
import { call, client, emulator, type Tap } from './helpers/index.ts';
import { freePort } from './security/support.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNNING_AS_ROOT = process.getuid?.() === 0;

/**
 * Who runs the image's process here. As root (CI): the Dockerfile's USER when numeric, as Docker
 * would (no passwd entry needed), else `nobody`. As anyone else: that user, who cannot switch.
 */
function unprivileged(user: string | undefined): { uid?: number; gid?: number } {
  if (!RUNNING_AS_ROOT) return {};
  const m = /^(\d+)(?::(\d+))?$/.exec(user ?? '');
  if (!m || Number(m[1]) === 0) return { uid: 65534, gid: 65534 };
  return { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) };
}

// ---------------------------------------------------------------------------------------------
// .dockerignore, as Docker reads it: the last matching pattern decides; a pattern matching a
// parent directory matches everything under it; `*` and `?` stop at `/`, `**` does not.

function dockerignorePatterns(text: string): Array<{ exclude: boolean; pattern: RegExp; source: string }> {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const exclude = !l.startsWith('!');
      const glob = path.posix.normalize((exclude ? l : l.slice(1)).trim().replace(/^\/+/, ''));
      return { exclude, pattern: globToRegExp(glob), source: l };
    });
}

function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      out += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i);
      out += glob.slice(i, end + 1).replace('[!', '[^');
      i = end;
    } else out += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

function isIgnored(relative: string, patterns: ReturnType<typeof dockerignorePatterns>): boolean {
  const parts = relative.split('/');
  const selfAndParents = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const p of patterns) {
    if (selfAndParents.some((candidate) => p.pattern.test(candidate))) ignored = p.exclude;
  }
  return ignored;
}

async function filesUnder(dir: string, base = dir): Promise<string[]> {
  const info = await stat(dir);
  if (!info.isDirectory()) return [path.relative(base, dir)];
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => filesUnder(path.join(dir, e.name), base)));
  return nested.flat();
}

// ---------------------------------------------------------------------------------------------
// Reproducing the image's filesystem

interface BuiltImage {
  /** Stands for the image's `/`. */
  readonly root: string;
  readonly workdir: string;
  readonly env: Record<string, string>;
}

/** A copy of the final stage's filesystem (what its COPY lines bring in) under a new temporary directory. */
async function buildFinalStage(t: Tap, stages: Stage[], secrets: Readonly<Record<string, string>> = {}): Promise<BuiltImage> {
  const scratch = await mkdtemp(path.join(tmpdir(), 'glp-image-'));
  t.teardown(async () => {
    await run('chmod', ['-R', 'u+w', scratch]);
    await rm(scratch, { recursive: true, force: true });
  });
  await chmod(scratch, 0o755);
  const built = new Map<string, string>();
  const buildStage = async (stage: Stage, root: string): Promise<string> => {
    let workdir = '/';
    // RUN after USER runs as that user, as in docker build (only root can switch here).
    let runAs: { uid?: number; gid?: number } = {};
    for (const inst of stage.instructions) {
      if (inst.keyword === 'USER') runAs = unprivileged(inst.args);
      else if (inst.keyword === 'WORKDIR') {
        workdir = path.posix.resolve(workdir, inst.args);
        await mkdir(path.join(root, workdir), { recursive: true });
      } else if (inst.keyword === 'COPY') {
        const words = inst.args.split(/\s+/);
        const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
        const [dest, ...sources] = words.filter((w) => !w.startsWith('--')).reverse();
        let sourceRoot = ROOT;
        if (from !== undefined) {
          const source = stages.find((s) => s.name === from);
          if (!source) throw new Error(`COPY --from=${from}: no such stage`);
          sourceRoot = built.get(from) ?? (await buildStage(source, await mkdtemp(path.join(scratch, `${from}-`))));
          built.set(from, sourceRoot);
        }
        const target = path.posix.resolve(workdir, dest!);
        for (const src of sources.reverse()) {
          const from = path.join(sourceRoot, src);
          const isDir = (await stat(from)).isDirectory();
          const to = path.join(root, !isDir && dest!.endsWith('/') ? path.posix.join(target, path.posix.basename(src)) : target);
          await mkdir(path.dirname(to), { recursive: true });
          await cp(from, to, { recursive: true });
        }
      } else if (inst.keyword === 'RUN') {
        for (const part of runCommand(inst.args, secrets).split('&&').map((p) => p.trim())) {
          // Cleaning the npm cache only makes the layer smaller; here it would empty this machine's cache.
          if (part.startsWith('npm cache ')) continue;
          // Only root can give files away; not as root, the later RUNs and the process are this same user anyway.
          if (part.startsWith('chown ') && !RUNNING_AS_ROOT) continue;
          const res = await run('sh', ['-c', part], { cwd: path.join(root, workdir), env: buildEnv(), ...runAs });
          if (res.code !== 0) throw new Error(`RUN ${part} (Dockerfile line ${inst.line}) exited ${res.code}: ${res.stderr}`);
        }
      }
    }
    return root;
  };
  const final = stages.at(-1)!;
  const root = await mkdtemp(path.join(scratch, 'image-'));
  await chmod(root, 0o755);
  await buildStage(final, root);
  return { root, workdir: path.posix.resolve('/', last(final, 'WORKDIR')?.args ?? '/'), env: envOf(final) };
}

/**
 * A build step's environment: clean, as in `docker build`. Above all without the npm_* variables
 * that `npm test` and `npx` set (npm_config_local_prefix names this repository), so that `npm ci`
 * works on the copy only. The npm cache is this machine's, and may answer without the registry.
 */
function buildEnv(): Record<string, string> {
  // The machine's CA settings stay: a registry behind a TLS-inspecting proxy needs them, as a build host would.
  const keep = ['PATH', 'HOME', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR'];
  const env: Record<string, string> = Object.fromEntries(keep.flatMap((k) => (process.env[k] === undefined ? [] : [[k, process.env[k]!]])));
  return { ...env, npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
}

/** Every file's path, size and mtime: a tree nothing wrote to stays equal. */
async function snapshot(dir: string): Promise<string[]> {
  const files = await filesUnder(dir);
  return Promise.all(files.sort().map(async (f) => {
    const s = await stat(path.join(dir, f));
    return `${f} ${s.size} ${s.mtimeMs}`;
  }));
}

// ---------------------------------------------------------------------------------------------

const dockerfileText = await readFile(path.join(ROOT, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(dockerfileText);
const finalStage = stages.at(-1)!;

t.test('the Dockerfile: exec forms, a non-root user, Node 24, a port that matches its environment', async (t) => {
  t.ok(stages.length >= 1, 'has a FROM');
  const entrypoint = execForm(last(finalStage, 'ENTRYPOINT')?.args ?? '', 'ENTRYPOINT');
  const cmd = execForm(last(finalStage, 'CMD')?.args ?? '', 'CMD');
  t.equal(entrypoint[0], 'node', 'ENTRYPOINT runs the command line directly with node (PID 1 gets the stop signal)');
  t.equal(entrypoint.at(-1), 'src/cli/main.js');
  t.same(cmd, ['serve']);
  const env = envOf(finalStage);
  t.equal(env.NODE_ENV, 'production');
  // The same V8 flags wherever the proxy starts: the bin's #! line, `npm start`, the image (NODE_OPTIONS plus ENTRYPOINT).
  const shebang = (await readFile(path.join(ROOT, 'src/cli/main.js'), 'utf8')).split('\n', 1)[0]!;
  const binFlags = /^#!\/usr\/bin\/env -S node (.*)$/.exec(shebang)?.[1]?.split(' ').sort() ?? [];
  const startScript = (JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['start'] ?? '';
  const startFlags = startScript.split(' ').filter((w) => w.startsWith('--')).sort();
  const imageFlags = [...(env.NODE_OPTIONS ?? '').split(' '), ...entrypoint.slice(1, -1)].filter(Boolean).sort();
  t.ok(binFlags.includes('--max-semi-space-size=16') && binFlags.includes('--no-memory-reducer'), `the bin's flags: ${binFlags.join(' ')}`);
  t.same(startFlags, binFlags, '`npm start` passes the same flags as the bin');
  t.same(imageFlags, binFlags, 'the image passes the same flags as the bin');
  const exposed = (last(finalStage, 'EXPOSE')?.args ?? '').split(/\s+/).map((p) => Number(p.split('/')[0]));
  t.ok(exposed.includes(Number(env.GREENLAKE_PROXY_PORT)), `EXPOSE ${exposed.join(' ')} includes GREENLAKE_PROXY_PORT (${env.GREENLAKE_PROXY_PORT})`);
  t.equal(last(finalStage, 'STOPSIGNAL')?.args, 'SIGTERM', 'SIGTERM: the signal serve drains on');
  t.ok(healthcheckOf(finalStage).command.length > 0, 'HEALTHCHECK CMD in exec form');

  const nodeMajor = process.versions.node.split('.')[0];
  const nvmrc = (await readFile(path.join(ROOT, '.nvmrc'), 'utf8')).trim();
  for (const stage of stages) t.match(stage.base, new RegExp(`^node:${nvmrc}(-|$)`), `FROM ${stage.base}: the Node major of .nvmrc (${nvmrc})`);
  t.equal(nvmrc, nodeMajor, 'the tests run on that Node major too');

  const user = (last(finalStage, 'USER')?.args ?? 'root').split(':')[0];
  t.notOk(user === 'root' || user === '0', `USER ${user}: the process does not run as root`);
});

t.test('.dockerignore lets in what the Dockerfile copies, and keeps out the rest', async (t) => {
  const patterns = dockerignorePatterns(await readFile(path.join(ROOT, '.dockerignore'), 'utf8'));
  const copied = stages.flatMap((s) =>
    all(s, 'COPY')
      .map((i) => i.args.split(/\s+/))
      .filter((words) => !words.some((w) => w.startsWith('--from=')))
      .flatMap((words) => words.filter((w) => !w.startsWith('--')).slice(0, -1)),
  );
  t.ok(copied.length > 0);
  for (const source of copied) {
    const files = await filesUnder(path.join(ROOT, source));
    const ignored = files.map((f) => path.posix.join(source, f).replace(/^\.\//, '')).filter((f) => isIgnored(f, patterns));
    t.same(ignored, [], `COPY ${source}: every file is in the build context`);
  }
  for (const kept of ['node_modules/fastify/package.json', '.git/HEAD', 'test/cli.test.ts', 'README.md', 'config/kubernetes/sidecar.yaml', 'docker-compose.yml']) {
    t.ok(isIgnored(kept, patterns), `${kept} is not sent to the build`);
  }
});

const PACKAGE_VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
/** The one name the image has everywhere: the Dockerfile's comment, compose, the manifests, the README. */
const IMAGE = `greenlake-proxy:${PACKAGE_VERSION}`;
const manifestFiles = (await readdir(path.join(ROOT, 'config', 'kubernetes'))).filter((f) => /\.ya?ml$/.test(f)).sort();

interface PodSecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  seccompProfile?: { type: string };
}
interface ContainerSecurityContext extends PodSecurityContext {
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  readOnlyRootFilesystem?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
}
interface PodContainer {
  name: string;
  image?: string;
  securityContext?: ContainerSecurityContext;
  ports?: Array<{ hostPort?: number }>;
}
interface RestrictedPodSpec {
  containers: PodContainer[];
  initContainers?: PodContainer[];
  securityContext?: PodSecurityContext;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  volumes?: Array<Record<string, unknown>>;
}
interface ManifestObject {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: { template?: { spec: RestrictedPodSpec } };
  data?: Record<string, string>;
}

async function manifestObjects(file: string): Promise<ManifestObject[]> {
  const text = await readFile(path.join(ROOT, 'config', 'kubernetes', file), 'utf8');
  return YAML.parseAllDocuments(text).map((d) => d.toJS() as ManifestObject).filter(Boolean);
}

function podsOf(objects: ManifestObject[]): Array<{ where: string; spec: RestrictedPodSpec }> {
  return objects.flatMap((o) => (o.spec?.template?.spec ? [{ where: `${o.kind} ${o.metadata.name}`, spec: o.spec.template.spec }] : []));
}

function containersOf(spec: RestrictedPodSpec): PodContainer[] {
  return [...(spec.initContainers ?? []), ...spec.containers];
}

const CA_VARIABLES = /\b(NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|npm_config_cafile|npm_config_ca|NPM_CONFIG_CAFILE)\b/;

t.test('a CA for `npm ci` comes in as a BuildKit secret, for that step only, and is in no layer of the image', async (t) => {
  t.match(dockerfileText.split('\n', 1)[0], /^# syntax=docker\/dockerfile:1/, 'the Dockerfile frontend that knows RUN --mount');
  t.match(dockerfileText, /docker build --secret id=npm_ca,src=\S+ -t \S+ \./, 'the header says how to pass the CA');
  const withSecrets = stages.flatMap((stage) => all(stage, 'RUN').map((i) => ({ stage, i, flags: runFlags(i.args) }))).filter((r) => r.flags.secrets.length > 0);
  t.ok(withSecrets.length > 0, 'a RUN mounts a secret');
  for (const { stage, i, flags } of withSecrets) {
    t.not(stage, finalStage, `RUN at line ${i.line} with a secret is in a build stage, not the image's`);
    t.same(flags.secrets.map((m) => m.id), ['npm_ca'], 'the npm_ca secret only');
    t.match(flags.command, /\bnpm ci\b/, 'for npm ci');
  }
  for (const inst of finalStage.instructions) {
    if (inst.keyword === 'ENV' || inst.keyword === 'ARG') t.notMatch(inst.args, CA_VARIABLES, `${inst.keyword} at line ${inst.line} sets no CA for the running image`);
    if (inst.keyword === 'RUN') t.same(runFlags(inst.args).secrets, [], `RUN at line ${inst.line} mounts no secret`);
    if (inst.keyword === 'COPY') {
      t.notMatch(inst.args, /\.(pem|crt|cer)\b|\/run\/secrets/, `COPY at line ${inst.line} brings in no certificate`);
      if (inst.args.includes('--from=')) t.match(inst.args, /^--from=\w+ \/app\/node_modules \.\/node_modules$/, 'from the build stage, node_modules only');
    }
  }

  // The step itself, with an `npm` that reports what it was given: the secret, when there is one, is an extra CA.
  const dir = t.testdir({ bin: { npm: '#!/bin/sh\necho "NODE_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS:-unset} $*"\n' }, 'ca.pem': readFileSync(path.join(ROOT, 'test/fixtures/tls/ca.pem'), 'utf8'), 'empty.pem': '' });
  await chmod(path.join(dir, 'bin', 'npm'), 0o755);
  const npmStep = async (secret: string | undefined): Promise<string> => {
    const command = runCommand(withSecrets[0]!.i.args, secret === undefined ? {} : { npm_ca: secret }).split('&&')[0]!;
    const res = await run('sh', ['-c', command], { env: { PATH: `${path.join(dir, 'bin')}:/usr/bin:/bin` } });
    t.equal(res.code, 0, res.stderr);
    return res.stdout.trim();
  };
  t.match(await npmStep(path.join(dir, 'ca.pem')), new RegExp(`^NODE_EXTRA_CA_CERTS=${path.join(dir, 'ca.pem')} ci `), 'with the secret: npm ci trusts it as an extra CA');
  t.match(await npmStep(undefined), /^NODE_EXTRA_CA_CERTS=unset ci /, 'without it: nothing changes');
  t.match(await npmStep(path.join(dir, 'empty.pem')), /^NODE_EXTRA_CA_CERTS=unset ci /, 'an empty secret counts as none');
});

t.test('one image name everywhere: Dockerfile, docker-compose.yml, the manifests, the README', async (t) => {
  const named = async (file: string): Promise<string[]> => [...(await readFile(path.join(ROOT, file), 'utf8')).matchAll(/\bgreenlake-proxy:[\w.${}-]*[\w}]/g)].map((m) => m[0]);
  const files = ['Dockerfile', 'docker-compose.yml', 'README.md', ...manifestFiles.map((f) => `config/kubernetes/${f}`)];
  for (const file of files) {
    const names = await named(file);
    t.ok(names.length > 0, `${file} names the image`);
    t.same([...new Set(names)], [IMAGE], `${file}: only ${IMAGE}`);
  }
  t.match(dockerfileText, `docker build -t ${IMAGE} .`, 'the Dockerfile\'s own build line tags it so');
  const compose = YAML.parse(await readFile(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { image?: string }> };
  t.same([...new Set(Object.values(compose.services).map((s) => s.image))], [IMAGE], 'every compose service runs it');
  for (const file of manifestFiles) {
    for (const pod of podsOf(await manifestObjects(file))) {
      for (const c of containersOf(pod.spec).filter((c) => c.name === 'greenlake-proxy')) t.equal(c.image, IMAGE, `${file} ${pod.where}: ${c.name}`);
    }
  }
  const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
  for (const step of [`docker build -t ${IMAGE} .`, `docker tag ${IMAGE} `, 'docker push ', 'image:']) t.ok(readme.includes(step), `the README says how: ${step}`);
});

/** The volume types Pod Security "restricted" allows. */
const RESTRICTED_VOLUMES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

for (const file of manifestFiles) {
  t.test(`config/kubernetes/${file}: every pod and container meets Pod Security "restricted"`, async (t) => {
    const pods = podsOf(await manifestObjects(file));
    t.ok(pods.length > 0, 'has workloads');
    for (const { where, spec } of pods) {
      t.notOk(spec.hostNetwork || spec.hostPID || spec.hostIPC, `${where}: no host namespaces`);
      for (const volume of spec.volumes ?? []) {
        const types = Object.keys(volume).filter((k) => k !== 'name');
        t.ok(types.every((k) => RESTRICTED_VOLUMES.has(k)), `${where}: volume ${String(volume['name'])} is ${types.join(', ')}`);
      }
      const pod = spec.securityContext ?? {};
      for (const c of containersOf(spec)) {
        const name = `${where}, container ${c.name}`;
        const own = c.securityContext;
        t.ok(own, `${name}: has a securityContext`);
        t.equal(own?.allowPrivilegeEscalation, false, `${name}: allowPrivilegeEscalation false`);
        t.notOk(own?.privileged, `${name}: not privileged`);
        t.ok(own?.capabilities?.drop?.includes('ALL'), `${name}: drops ALL capabilities`);
        t.ok((own?.capabilities?.add ?? []).every((cap) => cap === 'NET_BIND_SERVICE'), `${name}: adds none but NET_BIND_SERVICE`);
        t.equal(own?.runAsNonRoot ?? pod.runAsNonRoot, true, `${name}: runAsNonRoot`);
        t.not(own?.runAsUser ?? pod.runAsUser, 0, `${name}: not uid 0`);
        t.match(own?.seccompProfile?.type ?? pod.seccompProfile?.type, /^(RuntimeDefault|Localhost)$/, `${name}: seccompProfile RuntimeDefault`);
        t.ok((c.ports ?? []).every((p) => p.hostPort === undefined), `${name}: no hostPort`);
        // runAsNonRoot is verified by the kubelet only against a numeric user: the proxy's image has one, others need runAsUser.
        if (c.image !== IMAGE) t.ok((own?.runAsUser ?? pod.runAsUser) !== undefined, `${name}: ${c.image} runs as a uid the kubelet can verify (runAsUser)`);
      }
    }
  });
}

t.test('the team gateway: one namespace on every object, Pod Security enforced there, and allowedHosts naming its Service in it', async (t) => {
  for (const file of manifestFiles.filter((f) => f.startsWith('team-gateway'))) {
    const objects = await manifestObjects(file);
    const namespace = objects.find((o) => o.kind === 'Namespace');
    t.ok(namespace, `${file}: declares its Namespace`);
    t.equal(namespace?.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted', `${file}: which enforces "restricted"`);
    const name = namespace?.metadata.name ?? '';
    for (const o of objects.filter((o) => o.kind !== 'Namespace')) t.equal(o.metadata.namespace, name, `${file}: ${o.kind} ${o.metadata.name} is in ${name}`);
    const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'greenlake-gateway')!;
    const config = YAML.parse(objects.find((o) => o.kind === 'ConfigMap')!.data!['greenlake-proxy.yaml']!) as { inbound: { allowedHosts: string[] } };
    const svc = service.metadata.name;
    t.same(config.inbound.allowedHosts.sort(), [svc, `${svc}.${name}.svc`, `${svc}.${name}.svc.cluster.local`].sort(), `${file}: allowedHosts are the Service's names in ${name}`);
    t.match(await readFile(path.join(ROOT, 'config', 'kubernetes', file), 'utf8'), `http://${svc}.${name}.svc:`, `${file}: the URL teammates call, in the header`);
  }
});

t.test('the sidecar example says what happens before Kubernetes 1.29; docker-compose.yml says it needs Compose v2', async (t) => {
  const sidecar = await readFile(path.join(ROOT, 'config', 'kubernetes', 'sidecar.yaml'), 'utf8');
  t.match(sidecar, /Before Kubernetes 1\.29[\s\S]*never exits[\s\S]*move the proxy from\s+# initContainers into containers[\s\S]*\/-\/quit/, 'the failure and the way around it');
  const compose = await readFile(path.join(ROOT, 'docker-compose.yml'), 'utf8');
  t.match(compose.split('\n').slice(0, 5).join('\n'), /Needs Docker Compose v2/, 'in its first lines');
});

t.test('runs the image\'s start command the way the Dockerfile does', async (t) => {
  const emu = await emulator(t);
  const image = await buildFinalStage(t, stages);
  const app = path.join(image.root, image.workdir);
  t.same((await readdir(app)).sort(), ['config', 'node_modules', 'package.json', 'src'], 'WORKDIR holds what the image copies');
  t.notOk((await readdir(path.join(app, 'node_modules'))).includes('tap'), 'production dependencies only');
  // Node keys its compile cache by user: one made by root would never be read by the image's user.
  // As root (CI) the build's RUN switched to the image's USER; as anyone else it ran as that user.
  const runUid = unprivileged(last(finalStage, 'USER')?.args).uid ?? process.getuid?.();
  const cacheDirs = await readdir(path.join(app, 'node_modules/.cache/node-compile-cache')).catch(() => []);
  t.ok(
    cacheDirs.some((d) => d.startsWith(`v${process.versions.node}-`) && d.endsWith(`-${runUid}`)),
    `the image ships a compile cache for uid ${runUid} (found: ${cacheDirs.join(', ') || 'none'})`,
  );
  // Read-only, as with `read_only: true` / readOnlyRootFilesystem, and owned by someone else than the runner.
  const chmodded = await run('chmod', ['-R', 'a-w,a+rX', image.root]);
  t.equal(chmodded.code, 0, chmodded.stderr);
  const before = await snapshot(image.root);

  const port = await freePort();
  const nowhere = path.join(image.root, 'nonexistent');
  const env: Record<string, string> = {
    // The base image's PATH, with this Node 24 as its `node`.
    PATH: `${path.dirname(process.execPath)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    HOME: nowhere,
    TMPDIR: nowhere,
    ...image.env,
    GREENLAKE_PROXY_PORT: String(port),
    GREENLAKE_CLIENT_ID: DEMO_CLIENT.clientId,
    GREENLAKE_CLIENT_SECRET: DEMO_CLIENT.clientSecret,
    GREENLAKE_TOKEN_URL: emu.tokenUrl,
  };
  const user = unprivileged(last(finalStage, 'USER')?.args);
  const options: SpawnOptions = { cwd: app, env, ...user };
  if (RUNNING_AS_ROOT) t.ok(user.uid !== undefined && user.uid !== 0, `runs as uid ${user.uid}, not root`);
  const entrypoint = execForm(last(finalStage, 'ENTRYPOINT')!.args, 'ENTRYPOINT');
  const cmd = execForm(last(finalStage, 'CMD')!.args, 'CMD');
  const healthcheck = healthcheckOf(finalStage).command;

  // `docker run image`: ENTRYPOINT + CMD. On 0.0.0.0 without inbound authentication: refuses to start.
  const refused = await run(...withNode([...entrypoint, ...cmd]), options);
  t.equal(refused.code, 2, 'with no flag it exits 2: the safe default');
  t.match(refused.stderr, /listen\.host/);
  t.match(refused.stderr, /--allow-unauthenticated/);
  t.notMatch(refused.stderr + refused.stdout, DEMO_CLIENT.clientSecret);

  // `docker run image --allow-unauthenticated`, as the Dockerfile's header says: the arguments replace CMD.
  const [command, args] = withNode([...entrypoint, '--allow-unauthenticated']);
  const { child, exited, logs: output } = await startListening(t, command, args, options);
  t.match(output(), /"host":"0\.0\.0\.0"/, 'listens on 0.0.0.0 (GREENLAKE_PROXY_HOST from the image\'s ENV)');
  t.match(output(), new RegExp(`"url":"http://127\\.0\\.0\\.1:${port}"`), 'on the port from GREENLAKE_PROXY_PORT');
  t.match(output(), /WITHOUT inbound authentication/, 'and says, loudly, that it is open');

  // In the container the proxy is PID 1; here it is the child, named so (the machine may run other proxies).
  const health = await run(...withNode([...healthcheck, '--pid', String(child.pid)]), options);
  t.equal(health.code, 0, `HEALTHCHECK exits 0 while serving ${health.stdout}${health.stderr}`);
  t.match(health.stdout, `healthy: main http://127.0.0.1:${port}/-/healthz 200`, 'on the port GREENLAKE_PROXY_PORT gives it, through loopback');
  const http = client(t);
  const healthz = await call(http, `http://127.0.0.1:${port}/-/healthz`);
  t.equal(healthz.status, 200);
  // Bound to every address, not just 127.0.0.1, on any machine (one with only loopback too): seen on
  // 127.0.0.2, which Linux routes to lo and a 127.0.0.1 bind refuses. The Host names 127.0.0.1, which the Host check knows.
  const onOther = await call(http, `http://127.0.0.2:${port}/-/healthz`, { headers: { host: `127.0.0.1:${port}` } });
  t.equal(onOther.status, 200, 'reachable on 127.0.0.2 too: bound to every address');
  const status = (await call(http, `http://127.0.0.1:${port}/-/status`)).json<{ clients: Array<{ name: string; clientId: string }>; routes: unknown[] }>();
  t.same(status.clients.map((c) => [c.name, c.clientId]), [['default', DEMO_CLIENT.clientId]], 'zero-config: one client from GREENLAKE_CLIENT_ID');
  t.ok(status.routes.length > 1, 'every catalog route');

  const stopSignal = last(finalStage, 'STOPSIGNAL')?.args as NodeJS.Signals;
  child.kill(stopSignal);
  const [code, signal] = await exited;
  t.equal(code, 0, `${stopSignal} (the STOPSIGNAL): exit 0`);
  t.equal(signal, null);
  t.match(output(), /"msg":"stopped"/);
  t.notMatch(output(), DEMO_CLIENT.clientSecret, 'the secret never appears in the logs');
  const after = await run(...withNode([...healthcheck, '--pid', String(child.pid)]), options);
  t.equal(after.code, 1, 'HEALTHCHECK exits 1 once it stopped');
  t.same(await snapshot(image.root), before, 'nothing was written to the image\'s files');
});

// ---------------------------------------------------------------------------------------------
// docker-compose.yml

/** dclint's command line, run with this Node (a devDependency: `npm install` puts it in node_modules). */
