// The Kubernetes manifests of deploy/kubernetes, checked against the Kubernetes API schema
// (kubernetes-models validates each object as the API server's OpenAPI schema describes it), and for
// what this project needs of them: limits, probes and a locked-down security context on every
// container, fnlb's flags valid fnlb flags whose -nodes-dns names the nodes' headless Service.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { PACKAGE } from '../../src/common/package-root.js';
import { parseFlags } from '../../src/lb/flags.js';

const DIR = join(PACKAGE.root, 'deploy/kubernetes');

// biome-ignore lint/suspicious/noExplicitAny: the models take any object and validate it.
type Model = new (data: any) => { validate(): void };
const MODELS: Record<string, Model> = {
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
};

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  // biome-ignore lint/suspicious/noExplicitAny: read as the schema says, after validation.
  spec?: any;
  data?: Record<string, string>;
}

const manifests: Manifest[] = readdirSync(DIR)
  .filter((file) => file.endsWith('.yaml'))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((doc) => doc.toJSON() as Manifest),
  );

function validate(manifest: Manifest): void {
  const model = MODELS[`${manifest.apiVersion}/${manifest.kind}`];
  if (!model) throw new Error(`no schema model for ${manifest.apiVersion} ${manifest.kind}`);
  new model(manifest).validate();
}

const find = (kind: string, name: string) =>
  manifests.find((manifest) => manifest.kind === kind && manifest.metadata.name === name) as Manifest;

describe('deploy/kubernetes', () => {
  it('holds Postgres, the nodes and fnlb', () => {
    expect(manifests.map((manifest) => `${manifest.kind}/${manifest.metadata.name}`).sort()).toEqual([
      'ConfigMap/fnlb',
      'Deployment/fn-node',
      'Deployment/fnlb',
      'Service/fn-node',
      'Service/fn-postgres',
      'Service/fnlb',
      'StatefulSet/fn-postgres',
    ]);
  });

  it.each(manifests.map((manifest) => [`${manifest.kind}/${manifest.metadata.name}`, manifest]))(
    '%s validates against the Kubernetes API schema',
    (_name, manifest) => {
      expect(() => validate(manifest as Manifest)).not.toThrow();
    },
  );

  it('the schema check bites: a wrong type or a missing field is refused', () => {
    const deployment = structuredClone(find('Deployment', 'fn-node'));
    deployment.spec.replicas = 'five';
    expect(() => validate(deployment)).toThrow();
    const noSelector = structuredClone(find('Deployment', 'fn-node'));
    delete noSelector.spec.selector;
    expect(() => validate(noSelector)).toThrow();
  });

  it('every container has requests, limits, probes and no way to gain privileges', () => {
    for (const manifest of manifests.filter(
      (one) => one.kind === 'Deployment' || one.kind === 'StatefulSet',
    )) {
      for (const container of manifest.spec.template.spec.containers) {
        const where = `${manifest.metadata.name}/${container.name}`;
        expect(container.resources?.requests, where).toBeDefined();
        expect(container.resources?.limits, where).toBeDefined();
        expect(container.readinessProbe, where).toBeDefined();
        expect(container.securityContext?.allowPrivilegeEscalation, where).toBe(false);
        expect(container.securityContext?.capabilities?.drop, where).toContain('ALL');
      }
      expect(manifest.spec.template.spec.securityContext?.runAsNonRoot, manifest.metadata.name).toBe(true);
    }
  });

  it("fnlb's flags are fnlb's, and discover the nodes from their headless Service", () => {
    const flags = find('ConfigMap', 'fnlb').data?.FNLB_FLAGS ?? '';
    const parsed = parseFlags(flags.split(/\s+/).filter(Boolean));
    if (parsed.kind !== 'ok') throw new Error(`FNLB_FLAGS: ${JSON.stringify(parsed)}`);
    const service = find('Service', 'fn-node');
    expect(service.spec.clusterIP, 'headless: its DNS name lists every ready pod').toBe('None');
    const port = service.spec.ports[0].port;
    expect(parsed.options.nodesDns.map((target) => target.name)).toEqual([
      `fn-node.default.svc.cluster.local:${port}`,
    ]);
  });
});
