// The guard's tests as a nested run's report names them ("<property>: <test name>"), for the tests
// that assert which verdict each gets (guard-bite, guard-foreign). A renamed guard test shows up there
// as a missing verdict, never as a silent pass.
export const VERDICT = {
  sticky: 'sticky: stay on one node',
  spellings: 'sticky: reach the route’s node',
  hotReuse: 'hot-reuse: start one container per node that got them and are answered hot after the first',
  herd: 'herd: queues behind a few containers per node',
  scaleOut: 'scale-out: scales out on every node that got calls',
  spill: 'spill: spills from its home node to a few neighbours, not to every node',
  overhead: 'overhead: the balancer adds little to the median and the 99th percentile call',
  failover: 'failover: costs at most its calls in flight, and none after it is marked down',
  graceful: 'graceful-stop: costs no call',
  frozen:
    'frozen: costs at most its calls, is taken out within a few health intervals, and gets its routes back once thawed',
  malformed: 'malformed: get a 4xx or a closed connection and cost no node its place',
  recovery: 'recovery: gets exactly its own routes back within 3 health intervals',
  addSixth:
    'membership: a 6th node takes about 1/6 of the routes, all onto itself, and gives them back when removed',
  remove: 'membership: removing a node moves only its routes',
  ownFailures: 'no-duplicate: run once when the function answers 503, 500 or 502 itself',
  outlives: "no-duplicate: runs once when the function outlives the balancer's upstream timeout",
} as const;
