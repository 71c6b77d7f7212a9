// -routes N: N routes cloned from the base route's definition (read through the Fn API, so image,
// format, memory and config match whatever the deployment runs), named <path>-0001..<path>-N, and
// deleted afterwards. Only routes this run created are deleted: one that already existed is reused
// and left alone, so a run never removes a route somebody else made.
import { settleBounded } from '../common/bounded.js';
import { FnApiError, type FnClient } from '../common/fn-client.js';
import type { RouteBody } from '../common/wire.js';

/** Route API calls in flight at once while creating or deleting clones: enough to be quick, not a flood. */
const API_PARALLELISM = 8;

export interface ClonedRoutes {
  app: string;
  /** Route paths (`/primes-0001`), in call order. */
  paths: string[];
  /** The subset this run created, which cleanup deletes. */
  created: string[];
}

export function clonePaths(basePath: string, count: number): string[] {
  const width = Math.max(4, String(count).length);
  return Array.from({ length: count }, (_, i) => `${basePath}-${String(i + 1).padStart(width, '0')}`);
}

export class RouteSetupError extends Error {
  override readonly name = 'RouteSetupError';
}

/**
 * Creates the clones. On any failure it deletes what it created and throws RouteSetupError, so a
 * failed setup leaves the deployment as it found it.
 */
export async function createClones(
  api: FnClient,
  app: string,
  basePath: string,
  count: number,
): Promise<ClonedRoutes> {
  let base: Awaited<ReturnType<FnClient['getRoute']>>;
  try {
    base = await api.getRoute(app, basePath);
  } catch (error) {
    throw new RouteSetupError(`cannot read route ${app}${basePath} to clone it: ${(error as Error).message}`);
  }
  const definition: Omit<RouteBody['route'], 'path'> = {
    image: base.image,
    format: base.format,
    memory: base.memory,
    timeout: base.timeout,
    idle_timeout: base.idle_timeout,
    type: base.type,
    cpus: base.cpus,
    config: base.config,
    headers: base.headers,
  };
  const paths = clonePaths(basePath, count);
  const created = new Set<string>();
  const errors = await settleBounded(paths, API_PARALLELISM, async (path) => {
    try {
      await api.createRoute(app, { ...definition, path });
      created.add(path);
    } catch (error) {
      if (!(error instanceof FnApiError && error.status === 409)) throw error;
    }
  });
  if (errors.length > 0) {
    await deleteClones(api, app, [...created]);
    const first = errors[0]!;
    throw new RouteSetupError(
      `cannot create ${errors.length} of ${count} routes (first: ${app}${first.item}: ${first.error.message})`,
    );
  }
  return { app, paths, created: paths.filter((path) => created.has(path)) };
}

/** Deletes the given routes; returns one message per route it could not delete. */
export async function deleteClones(api: FnClient, app: string, paths: readonly string[]): Promise<string[]> {
  const errors = await settleBounded(paths, API_PARALLELISM, (path) => api.deleteRoute(app, path));
  return errors.map(({ item, error }) => `${app}${item}: ${error.message}`);
}
