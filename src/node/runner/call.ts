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
  /**
   * A call invoked by id (`/invoke`, no HTTP trigger). Only http-stream tells the two apart: such a
   * call reaches the function with the caller's headers as they are, and its answer (headers and
   * body) is the function's as it is. Absent or false: an HTTP call (a v1 route, or a v2 HTTP
   * trigger), which carries the caller's method, URL and headers as Fn-Http-* headers.
   */
  invoke?: boolean;
  /**
   * A v2 fn: its containers get FN_FN_ID, FN_APP_ID and FN_FN_NAME and the label `fnlb-guard.fn`, and
   * two fns never share a container. `route` is then the fn's definition in a route's shape (path
   * `/<fn name>`, format `http-stream`).
   */
  fn?: { id: string; name: string; appId: string };
}

export interface CallResult extends FunctionResponse {
  containerId: string;
  /** The call waited for a container start: its container had served no call before. */
  cold: boolean;
  /** From arrival at the runner to the start of execution. */
  waitMs: number;
}
