// Fn v2 trigger endpoints: /v2/triggers, /v2/triggers/:trigger_id, and the lookup Fn's LB nodes and
// fnlb use to learn which fn an HTTP trigger calls: /v2/runner/apps/:app_id/triggerBySource/:type/*.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ulid } from '../../../common/ulid.js';
import type { Page, Trigger } from '../../../common/wire-v2.js';
import { AnswerError } from '../../answer-error.js';
import type { Datastore } from '../../datastore/datastore.js';
import { type ListQuery, nameFilter, page, pageFilter } from './paging.js';
import { newTrigger, objectBody, updatedTrigger } from './validate.js';

type TriggerParams = { Params: { trigger_id: string } };
type SourceParams = { Params: { app_id: string; type: string; '*'?: string } };

async function loadTrigger(datastore: Datastore, id: string): Promise<Trigger> {
  const trigger = await datastore.getTrigger(id);
  if (trigger === undefined) throw new AnswerError(404, 'Trigger not found');
  return trigger;
}

export function triggerRoutesV2(datastore: Datastore) {
  return async (api: FastifyInstance) => {
    api.get<ListQuery>('/v2/triggers', async (request): Promise<Page<Trigger>> => {
      const appId = request.query.app_id;
      if (appId === undefined || appId === '') throw new AnswerError(400, 'Missing App ID on Trigger');
      const fnId = request.query.fn_id;
      const filter = pageFilter(request);
      const items = await datastore.listTriggers({
        ...filter,
        appId,
        ...(fnId === undefined || fnId === '' ? {} : { fnId }),
        ...nameFilter(request),
      });
      return page(items, filter);
    });

    api.post('/v2/triggers', async (request): Promise<Trigger> => {
      return datastore.insertTrigger(newTrigger(objectBody(request.body), ulid(), new Date().toISOString()));
    });

    api.get<TriggerParams>('/v2/triggers/:trigger_id', async (request) =>
      loadTrigger(datastore, request.params.trigger_id),
    );

    api.put<TriggerParams>('/v2/triggers/:trigger_id', async (request): Promise<Trigger> => {
      const body = objectBody(request.body);
      const current = await loadTrigger(datastore, request.params.trigger_id);
      return datastore.updateTrigger(updatedTrigger(current, body, new Date().toISOString()));
    });

    api.delete<TriggerParams>('/v2/triggers/:trigger_id', async (request, reply) => {
      await datastore.removeTrigger(request.params.trigger_id);
      return reply.code(204).send();
    });

    // A trigger of source "/" is asked for without one: the canonical URL has no trailing slash.
    const bySource = async (request: FastifyRequest<SourceParams>): Promise<Trigger> => {
      const { app_id: appId, type } = request.params;
      const trigger = await datastore.getTriggerBySource(appId, type, `/${request.params['*'] ?? ''}`);
      if (trigger === undefined) throw new AnswerError(404, 'Trigger not found');
      return trigger;
    };
    api.get<SourceParams>('/v2/runner/apps/:app_id/triggerBySource/:type', bySource);
    api.get<SourceParams>('/v2/runner/apps/:app_id/triggerBySource/:type/*', bySource);
  };
}
