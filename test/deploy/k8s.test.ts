import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { configSchema } from "../../core/index.ts";

/**
 * The Kubernetes manifests (deploy/k8s: a Kustomize base and overlays) against the Kubernetes OpenAPI
 * schemas (kubernetes-models, generated from them; the Prometheus Operator's CRDs for ServiceMonitor),
 * and the cross-references a schema cannot see: selectors, ports, probe paths, env names.
 */
const root = path.resolve(import.meta.dirname, "../..");
const k8sDir = path.join(root, "deploy/k8s");
const configNames = new Set(Object.keys(configSchema.shape));

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML, checked by the schemas below.
type Obj = Record<string, any>;

const readYaml = (file: string): Obj[] =>
  parseAllDocuments(readFileSync(file, "utf8"))
    .map((d) => d.toJS() as Obj | null)
    .filter((d): d is Obj => d !== null);

/** The model module of an apiVersion, whose class of the object's kind validates it. */
async function modelFor(apiVersion: string): Promise<Record<string, unknown>> {
  if (apiVersion === "monitoring.coreos.com/v1")
    return import("@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1");
  return import(`kubernetes-models/${apiVersion}`);
}

async function schemaErrors(obj: Obj): Promise<string | undefined> {
  const Model = (await modelFor(obj.apiVersion))[obj.kind] as
    | (new (
        o: Obj,
      ) => { validate(): void })
    | undefined;
  if (!Model) return `${obj.apiVersion} ${obj.kind}: no schema`;
  try {
    new Model(obj).validate();
    return undefined;
  } catch (err) {
    return `${obj.kind}/${obj.metadata?.name}: ${(err as Error).message}`;
  }
}

// --- A renderer for the subset of Kustomize the manifests use (kubectl kustomize renders the same). ---
const SUPPORTED = new Set(["apiVersion", "kind", "namespace", "resources", "images", "patches"]);

function pointer(p: string): string[] {
  return p
    .split("/")
    .slice(1)
    .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/** RFC 6902 add / replace / remove, the operations of the overlays' patches. */
function applyJsonPatch(doc: Obj, ops: { op: string; path: string; value?: unknown }[]): void {
  for (const { op, path: p, value } of ops) {
    const keys = pointer(p);
    const last = keys.pop() as string;
    let parent: Obj = doc;
    for (const k of keys) {
      parent = parent[k];
      if (parent === undefined) throw new Error(`patch path ${p}: ${k} does not exist`);
    }
    if (op === "replace" && !(last in parent)) throw new Error(`patch path ${p} does not exist`);
    if (op === "add" && Array.isArray(parent)) {
      parent.splice(last === "-" ? parent.length : Number(last), 0, value);
    } else if (op === "add" || op === "replace") parent[last] = value;
    else if (op === "remove") Array.isArray(parent) ? parent.splice(Number(last), 1) : delete parent[last];
    else throw new Error(`unsupported patch op ${op}`);
  }
}

const CLUSTER_SCOPED = new Set(["Namespace"]);

function render(dir: string): Obj[] {
  const k = parseYaml(readFileSync(path.join(dir, "kustomization.yaml"), "utf8")) as Obj;
  const unsupported = Object.keys(k).filter((key) => !SUPPORTED.has(key));
  if (unsupported.length > 0)
    throw new Error(`${dir}: kustomization fields this test cannot render: ${unsupported}`);
  const objects: Obj[] = [];
  for (const r of (k.resources ?? []) as string[]) {
    const target = path.join(dir, r);
    objects.push(...(statSync(target).isDirectory() ? render(target) : readYaml(target)));
  }
  for (const { target, patch } of (k.patches ?? []) as { target: Obj; patch: string }[]) {
    const hits = objects.filter((o) => o.kind === target.kind && o.metadata.name === target.name);
    if (hits.length !== 1)
      throw new Error(`${dir}: patch target ${target.kind}/${target.name} matches ${hits.length}`);
    applyJsonPatch(hits[0] as Obj, parseYaml(patch));
  }
  for (const image of (k.images ?? []) as Obj[]) {
    for (const o of objects) {
      for (const c of o.spec?.template?.spec?.containers ?? []) {
        if (c.image.split(":")[0] === image.name) c.image = `${image.newName ?? image.name}:${image.newTag}`;
      }
    }
  }
  if (k.namespace) {
    for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  }
  return objects;
}

const yamlFiles = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".yaml") && !f.endsWith("kustomization.yaml"))
    .map((f) => path.join(dir, f));

const overlays = readdirSync(path.join(k8sDir, "overlays"));
const rendered = Object.fromEntries(
  ["base", ...overlays.map((o) => `overlays/${o}`)].map((d) => [d, render(path.join(k8sDir, d))]),
);
const secretExample = readYaml(path.join(k8sDir, "secret.example.yaml"))[0] as Obj;

// --- Queries on a rendered set. ---
const of = (objs: Obj[], kind: string) => objs.filter((o) => o.kind === kind);
const workloads = (objs: Obj[]) => of(objs, "Deployment");
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);
const podsOf = (objs: Obj[], selector: Record<string, string>) =>
  workloads(objs).filter((d) => matches(selector, d.spec.template.metadata.labels));
const containerOf = (d: Obj): Obj => d.spec.template.spec.containers[0];
const byName = (objs: Obj[], kind: string, name: string) =>
  of(objs, kind).find((o) => o.metadata.name === name) as Obj;
const mebibytes = (q: string) => {
  const m = /^(\d+)(Mi|Gi)$/.exec(q);
  if (!m) throw new Error(`unexpected memory quantity ${q}`);
  return Number(m[1]) * (m[2] === "Gi" ? 1024 : 1);
};

describe("Kubernetes manifests (deploy/k8s)", () => {
  it("every manifest file and every rendered object validates against the Kubernetes OpenAPI schemas", async () => {
    const objects = [...yamlFiles(k8sDir).flatMap(readYaml), ...Object.values(rendered).flat()];
    expect(objects.length).toBeGreaterThan(20);
    const errors = (await Promise.all(objects.map(schemaErrors))).filter(Boolean);
    expect(errors).toEqual([]);
  });

  it("the schema check rejects what the API server would: a wrong type, a missing required field", async () => {
    const deployment = structuredClone(byName(rendered.base as Obj[], "Deployment", "livedrop-gateway"));
    deployment.spec.replicas = "two";
    expect(await schemaErrors(deployment)).toMatch(/replicas/);
    const service = structuredClone(byName(rendered.base as Obj[], "Service", "livedrop-gateway"));
    delete service.spec.ports[0].port;
    expect(await schemaErrors(service)).toMatch(/port/);
  });

  for (const [name, objs] of Object.entries(rendered)) {
    describe(name, () => {
      it("Deployments select their own pods; Services, PDBs, policies and the HPA point at a workload and at ports that exist", () => {
        for (const d of workloads(objs)) {
          expect(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels), d.metadata.name).toBe(
            true,
          );
        }
        for (const s of of(objs, "Service")) {
          const pods = podsOf(objs, s.spec.selector);
          expect(pods, s.metadata.name).toHaveLength(1);
          const portNames = containerOf(pods[0] as Obj).ports.map((p: Obj) => p.name);
          for (const p of s.spec.ports) expect(portNames, s.metadata.name).toContain(p.targetPort);
        }
        for (const pdb of of(objs, "PodDisruptionBudget")) {
          expect(podsOf(objs, pdb.spec.selector.matchLabels), pdb.metadata.name).toHaveLength(1);
        }
        for (const policy of of(objs, "NetworkPolicy")) {
          const selector = policy.spec.podSelector.matchLabels ?? {};
          expect(podsOf(objs, selector).length, policy.metadata.name).toBeGreaterThan(0);
          for (const rule of policy.spec.ingress ?? []) {
            for (const pod of podsOf(objs, selector)) {
              const ports = containerOf(pod).ports.map((p: Obj) => p.containerPort);
              for (const p of rule.ports ?? []) expect(ports, policy.metadata.name).toContain(p.port);
            }
          }
        }
        for (const hpa of of(objs, "HorizontalPodAutoscaler")) {
          expect(byName(objs, hpa.spec.scaleTargetRef.kind, hpa.spec.scaleTargetRef.name)).toBeDefined();
          expect(hpa.spec.minReplicas).toBeLessThanOrEqual(hpa.spec.maxReplicas);
        }
      });

      it("only the gateway is public: one LoadBalancer, and the only ingress rule open to any source is the gateway's", () => {
        const publicServices = of(objs, "Service").filter((s) => s.spec.type === "LoadBalancer");
        expect(publicServices.map((s) => s.metadata.name)).toEqual(["livedrop-gateway"]);
        const denyAll = of(objs, "NetworkPolicy").find(
          (p) => Object.keys(p.spec.podSelector).length === 0 && p.spec.ingress === undefined,
        );
        expect(denyAll?.spec.policyTypes).toEqual(["Ingress"]);
        const open = of(objs, "NetworkPolicy").filter((p) =>
          (p.spec.ingress ?? []).some((rule: Obj) => rule.from === undefined),
        );
        expect(open.map((p) => p.spec.podSelector.matchLabels)).toEqual([
          { "app.kubernetes.io/name": "livedrop-gateway" },
        ]);
      });

      it("probes ask /healthz (startup, liveness) and /readyz (readiness) on a port the container declares, on the port the config sets", () => {
        const data = (byName(objs, "ConfigMap", "livedrop-config") as Obj).data;
        const portEnv: Record<string, string> = {
          gateway: "GATEWAY_PORT",
          worker: "WORKER_PORT",
          media: "MEDIA_PORT",
        };
        for (const d of workloads(objs)) {
          const c = containerOf(d);
          expect(c.startupProbe.httpGet.path).toBe("/healthz");
          expect(c.livenessProbe.httpGet.path).toBe("/healthz");
          expect(c.readinessProbe.httpGet.path).toBe("/readyz");
          const probePorts = [c.startupProbe, c.livenessProbe, c.readinessProbe].map((p) => p.httpGet.port);
          const declared = c.ports.find((p: Obj) => p.name === probePorts[0]);
          expect(new Set(probePorts).size).toBe(1);
          expect(declared, d.metadata.name).toBeDefined();
          const role = c.args[0] as string;
          expect(String(declared.containerPort), d.metadata.name).toBe(data[portEnv[role] as string]);
        }
      });

      it("every environment name is one the configuration schema knows, and the config plus the secret parse", () => {
        const cm = byName(objs, "ConfigMap", "livedrop-config") as Obj;
        const secret = byName(objs, "Secret", "livedrop-secrets") ?? secretExample;
        const names = [...Object.keys(cm.data), ...Object.keys(secret.stringData)];
        for (const d of workloads(objs)) {
          const c = containerOf(d);
          names.push(...(c.env ?? []).map((e: Obj) => e.name));
          expect(c.envFrom.map((e: Obj) => (e.configMapRef ?? e.secretRef).name).sort()).toEqual([
            cm.metadata.name,
            secret.metadata.name,
          ]);
        }
        expect(names.filter((n) => !configNames.has(n))).toEqual([]);
        const parsed = configSchema.safeParse({ ...cm.data, ...secret.stringData });
        expect(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([]);
      });

      it("the gateway stops routing before it drains and drains within its grace period", () => {
        const cm = byName(objs, "ConfigMap", "livedrop-config") as Obj;
        const gateway = byName(objs, "Deployment", "livedrop-gateway") as Obj;
        const preStop = containerOf(gateway).lifecycle.preStop.exec.command as string[];
        expect(preStop[0]).toBe("sleep");
        const sleepS = Number(preStop[1]);
        expect(sleepS).toBeGreaterThan(0);
        const drainMs = Number(cm.data.LIVEDROP_STOP_GRACE_MS);
        expect(gateway.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(
          drainMs + sleepS * 1000,
        );
        for (const d of workloads(objs)) {
          expect(d.spec.template.spec.terminationGracePeriodSeconds * 1000, d.metadata.name).toBeGreaterThan(
            drainMs,
          );
        }
      });

      it("every container has requests and limits, sized above the memory targets (gateway idle 80 MB, worker 150 MB)", () => {
        for (const d of workloads(objs)) {
          const r = containerOf(d).resources;
          for (const key of ["cpu", "memory"]) {
            expect(r.requests[key], d.metadata.name).toBeDefined();
            expect(r.limits[key], d.metadata.name).toBeDefined();
          }
          expect(mebibytes(r.limits.memory)).toBeGreaterThanOrEqual(mebibytes(r.requests.memory));
        }
        const gw = containerOf(byName(objs, "Deployment", "livedrop-gateway") as Obj).resources;
        expect(mebibytes(gw.requests.memory)).toBeGreaterThan(80);
        const worker = containerOf(byName(objs, "Deployment", "livedrop-worker") as Obj).resources;
        expect(mebibytes(worker.requests.memory)).toBeGreaterThanOrEqual(150);
        expect(mebibytes(worker.limits.memory)).toBeGreaterThanOrEqual(1.5 * 150);
      });

      it("media runs on the node's network with the announced IP from the node and a port range the config bounds", () => {
        const media = byName(objs, "Deployment", "livedrop-media") as Obj;
        const cm = byName(objs, "ConfigMap", "livedrop-config") as Obj;
        expect(media.spec.template.spec.hostNetwork).toBe(true);
        const announced = containerOf(media).env.find((e: Obj) => e.name === "MEDIA_ANNOUNCED_IP");
        expect(announced.valueFrom.fieldRef.fieldPath).toBe("status.hostIP");
        expect(Number(cm.data.MEDIA_RTC_MIN_PORT)).toBeLessThan(Number(cm.data.MEDIA_RTC_MAX_PORT));
        expect(cm.data.MEDIA_LISTEN_IP).toBe("0.0.0.0");
      });

      it("the ServiceMonitor scrapes /metrics on a named port of every role's metrics Service", () => {
        const [monitor, ...others] = of(objs, "ServiceMonitor");
        expect(others).toEqual([]);
        const scraped = of(objs, "Service").filter((s) =>
          matches(monitor?.spec.selector.matchLabels, s.metadata.labels),
        );
        const roles = scraped
          .flatMap((s) => podsOf(objs, s.spec.selector))
          .map((d) => containerOf(d).args[0]);
        expect(roles.sort()).toEqual(["gateway", "media", "worker"]);
        for (const endpoint of monitor?.spec.endpoints ?? []) {
          expect(endpoint.path).toBe("/metrics");
          for (const s of scraped) expect(s.spec.ports.map((p: Obj) => p.name)).toContain(endpoint.port);
        }
      });
    });
  }

  it("overlays set a tagged image on every container, never a bare or latest one", () => {
    for (const overlay of overlays) {
      for (const d of workloads(rendered[`overlays/${overlay}`] as Obj[])) {
        expect(containerOf(d).image, `${overlay} ${d.metadata.name}`).toMatch(/:(?!latest$)[\w.-]+$/);
      }
    }
  });
});
