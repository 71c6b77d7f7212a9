// A complete route record (Fn's defaults, an existing test function) for tests that work below the
// HTTP API: the datastores store it, the route cache serves it, the runner runs it.
import type { Route } from '../src/common/wire.js';

export function sampleRoute(app: string, path: string, overrides: Partial<Route> = {}): Route {
  return {
    app_name: app,
    path,
    image: 'fnguard/echo',
    format: 'default',
    memory: 128,
    timeout: 30,
    idle_timeout: 30,
    type: 'sync',
    cpus: '',
    config: {},
    headers: {},
    ...overrides,
  };
}
