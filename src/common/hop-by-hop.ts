// Connection-specific header fields (RFC 9110 section 7.6.1, plus the pre-standard ones still seen):
// they describe one hop, so neither the node (reframing a call for its function) nor the balancer
// (proxying) passes them on. Each adds the fields its own role makes connection-specific.

export const CONNECTION_HEADERS: readonly string[] = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];
