// Fn v1 route endpoints: /v1/apps/:app/routes and /v1/apps/:app/routes/*path.
// Creating or upserting a route creates its app, as Fn does.
import type { FastifyInstance } from 'fastify';
import type { Route, RouteResponse, RoutesResponse } from '../../common/wire.js';
import { AnswerError } from '../answer-error.js';
import { AlreadyExistsError, type Datastore, NotFoundError } from '../datastore/datastore.js';
import { loadApp } from './apps.js';
import { rethrowAs } from './errors.js';
import {
  applyRouteBody,
  checkPathMatches,
  defaultRoute,
  unwrap,
  validateAppName,
  validateRoutePath,
} from './validate.js';

type AppParams = { Params: { app: string } };
type RouteParams = { Params: { app: string; '*': string } };

function routeParams(params: RouteParams['Params']) {
  return {
    app: validateAppName(params.app, 'app name in the URL'),
    path: validateRoutePath(`/${params['*']}`, 'route path in the URL'),
  };
}

async function loadRoute(datastore: Datastore, app: string, path: string): Promise<Route> {
  const route = await datastore.getRoute(app, path);
  if (route) return route;
  await loadApp(datastore, app);
  throw new AnswerError(404, 'Route not found');
}

export function routeRoutes(datastore: Datastore) {
  return async (api: FastifyInstance) => {
    api.get<AppParams>('/v1/apps/:app/routes', async (request): Promise<RoutesResponse> => {
      const app = await loadApp(datastore, request.params.app);
      return { message: 'Successfully listed routes', routes: await datastore.getRoutes(app.name) };
    });

    api.post<AppParams>('/v1/apps/:app/routes', async (request): Promise<RouteResponse> => {
      const app = validateAppName(request.params.app, 'app name in the URL');
      const input = unwrap(request.body, 'route', 'Missing new route (route)');
      const path = validateRoutePath(input.path);
      const route = await datastore
        .insertRoute(applyRouteBody(defaultRoute(app, path), input))
        .catch(rethrowAs(AlreadyExistsError, 409, 'Route already exists'));
      return { message: 'Route successfully created', route };
    });

    api.get<RouteParams>('/v1/apps/:app/routes/*', async (request): Promise<RouteResponse> => {
      const { app, path } = routeParams(request.params);
      return { message: 'Successfully loaded route', route: await loadRoute(datastore, app, path) };
    });

    api.patch<RouteParams>('/v1/apps/:app/routes/*', async (request): Promise<RouteResponse> => {
      const { app, path } = routeParams(request.params);
      const input = unwrap(request.body, 'route', 'Missing route update (route)');
      checkPathMatches(input, path);
      const current = await loadRoute(datastore, app, path);
      const route = await datastore.updateRoute(applyRouteBody(current, input));
      return { message: 'Route successfully updated', route };
    });

    // PUT creates the route (and its app) when missing, else updates it like PATCH.
    api.put<RouteParams>('/v1/apps/:app/routes/*', async (request): Promise<RouteResponse> => {
      const { app, path } = routeParams(request.params);
      const input = unwrap(request.body, 'route', 'Missing route (route)');
      checkPathMatches(input, path);
      const current = await datastore.getRoute(app, path);
      if (current) {
        return {
          message: 'Route successfully updated',
          route: await datastore.updateRoute(applyRouteBody(current, input)),
        };
      }
      try {
        const route = await datastore.insertRoute(applyRouteBody(defaultRoute(app, path), input));
        return { message: 'Route successfully created', route };
      } catch (error) {
        // Another node created it between our read and insert: apply the body as an update.
        if (!(error instanceof AlreadyExistsError)) throw error;
        const raced = await loadRoute(datastore, app, path);
        return {
          message: 'Route successfully updated',
          route: await datastore.updateRoute(applyRouteBody(raced, input)),
        };
      }
    });

    api.delete<RouteParams>('/v1/apps/:app/routes/*', async (request) => {
      const { app, path } = routeParams(request.params);
      await loadRoute(datastore, app, path);
      await datastore.removeRoute(app, path).catch(rethrowAs(NotFoundError, 404, 'Route not found'));
      return { message: 'Route deleted' };
    });
  };
}
