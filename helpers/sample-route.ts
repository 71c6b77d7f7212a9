// A complete route record (the API's defaults, an existing test function) for tests that work below
// the HTTP API: the datastores store it, the route cache serves it, the runner runs it.
import { ROUTE_DEFAULTS, type Route } from '../src/common/wire.js';

export function sampleRoute(app: string, path: string, overrides: Partial<Route> = {}): Route {
  return {
    app_name: app,
    path,
    image: 'localhost/fnlb-guard/echo',
    ...ROUTE_DEFAULTS,
    config: {},
    headers: {},
    ...overrides,
  };
}
