// What a call to the runner is, and what the runner answers: the one shape the API hands in and the
// pools queue.
import type { App, Route } from '../../common/wire.js';
import type { FunctionResponse, HeaderMap } from '../formats/index.js';

export interface CallRequest {
  id: string;
  app: App;
  route: Route;
  method: string;
  /** The URL as the client sent it: `http://host:port/r/app/path?query`. */
  requestUrl: string;
  headers: HeaderMap;
  body: Buffer;
  /** Aborted when the client goes away: a call still waiting then leaves its queue at once. */
  signal?: AbortSignal;
}

export interface CallResult extends FunctionResponse {
  containerId: string;
  /** The call waited for a container start: its container had served no call before. */
  cold: boolean;
  /** From arrival at the runner to the start of execution. */
  waitMs: number;
}
