// One call of a function, the historic harness's executeFunction: GET <route><query> (for primes
// `?max=&loops=`), timed from request to the end of the body. A call succeeds when it answers 200 with a JSON object;
// what identifies the node that ran it is kept raw here (body hostname, Fn-Node, Fn-Lb-Node) and
// resolved to a node address by attribution.ts.
import type { FnClient } from '../common/fn-client.js';
import { FN_HEADERS } from '../common/wire.js';

/** What the primes function answers; every field optional, since any Fn deployment may be measured. */
export interface PrimesAnswer {
  durationSeconds?: number;
  hostname?: string;
  container?: string;
  max?: number;
  loops?: number;
  count?: number;
}

export interface Execution {
  ok: boolean;
  /** HTTP status; undefined when no response came (refused, reset, deadline). */
  status: number | undefined;
  /** Why the call failed, in the historic harness's words where it had some. */
  error: string | undefined;
  body: string;
  /** `hostname` of the JSON body: the node id (the container's HOSTNAME in historic Fn). */
  hostname: string | undefined;
  /** Fn-Node response header: the node id. */
  nodeHeader: string | undefined;
  /** Fn-Lb-Node response header: the node address fnlb used. */
  lbNodeHeader: string | undefined;
  cold: boolean;
  durationSeconds: number | undefined;
  responseSeconds: number;
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function parseAnswer(body: string): PrimesAnswer | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as PrimesAnswer)
      : undefined;
  } catch {
    return undefined;
  }
}

export function primesQuery(max: number, loops: number): string {
  return `?max=${max}&loops=${loops}`;
}

export async function execute(client: FnClient, route: string, query: string): Promise<Execution> {
  const started = performance.now();
  let result: Awaited<ReturnType<FnClient['send']>>;
  try {
    result = await client.send('GET', `${route}${query}`);
  } catch (error) {
    const err = error as Error & { code?: string };
    return {
      ok: false,
      status: undefined,
      error: err.code && !err.message.includes(err.code) ? `${err.code}: ${err.message}` : err.message,
      body: '',
      hostname: undefined,
      nodeHeader: undefined,
      lbNodeHeader: undefined,
      cold: false,
      durationSeconds: undefined,
      responseSeconds: (performance.now() - started) / 1000,
    };
  }
  const responseSeconds = (performance.now() - started) / 1000;
  const answer = result.status === 200 ? parseAnswer(result.body) : undefined;
  let error: string | undefined;
  if (result.status !== 200) error = `function returned status code: ${result.status}`;
  else if (answer === undefined) error = 'response body is not a JSON object';
  return {
    ok: error === undefined,
    status: result.status,
    error,
    body: result.body,
    hostname: nonEmpty(answer?.hostname),
    nodeHeader: nonEmpty(result.headers[FN_HEADERS.node]),
    lbNodeHeader: nonEmpty(result.headers[FN_HEADERS.lbNode]),
    cold: result.headers[FN_HEADERS.cold] === 'true',
    durationSeconds: typeof answer?.durationSeconds === 'number' ? answer.durationSeconds : undefined,
    responseSeconds,
  };
}
