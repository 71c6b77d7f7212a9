// Fn v1 app endpoints: /v1/apps and /v1/apps/:app.
import type { FastifyInstance } from 'fastify';
import type { AppResponse, AppsResponse } from '../../common/wire.js';
import { AnswerError } from '../answer-error.js';
import { AlreadyExistsError, type Datastore, NotFoundError } from '../datastore/datastore.js';
import { rethrowAs } from './errors.js';
import { appFromBody, appPatchFromBody, mergeConfig, validateAppName } from './validate.js';

type AppParams = { Params: { app: string } };

export async function loadApp(datastore: Datastore, name: string) {
  const app = await datastore.getApp(validateAppName(name, 'app name in the URL'));
  if (!app) throw new AnswerError(404, 'App not found');
  return app;
}

export function appRoutes(datastore: Datastore) {
  return async (api: FastifyInstance) => {
    api.get('/v1/apps', async (): Promise<AppsResponse> => {
      return { message: 'Successfully listed applications', apps: await datastore.getApps() };
    });

    api.post('/v1/apps', async (request): Promise<AppResponse> => {
      const app = await datastore
        .insertApp(appFromBody(request.body))
        .catch(rethrowAs(AlreadyExistsError, 409, 'App already exists'));
      return { message: 'App successfully created', app };
    });

    api.get<AppParams>('/v1/apps/:app', async (request): Promise<AppResponse> => {
      return { message: 'Successfully loaded app', app: await loadApp(datastore, request.params.app) };
    });

    api.patch<AppParams>('/v1/apps/:app', async (request): Promise<AppResponse> => {
      const current = await loadApp(datastore, request.params.app);
      const patch = appPatchFromBody(request.body, current.name);
      const app = await datastore.updateApp(current.name, mergeConfig(current.config, patch));
      return { message: 'App successfully updated', app };
    });

    api.delete<AppParams>('/v1/apps/:app', async (request) => {
      const app = await loadApp(datastore, request.params.app);
      await datastore.removeApp(app.name).catch(rethrowAs(NotFoundError, 404, 'App not found'));
      return { message: 'App deleted' };
    });
  };
}
