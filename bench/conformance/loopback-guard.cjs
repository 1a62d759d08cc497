/*
 * Preloaded into the suites' Node processes (NODE_OPTIONS=--require …) by run.sh, so a suite can
 * only open sockets to loopback: it refuses, with an error naming the host, any connection to
 * anything else. The suites reach out on their own in places (status list URLs found in issued
 * credentials, `vc.defaultDocumentLoader` for unknown contexts, verification-method URLs); a
 * misconfigured service must show up as a failing test, not as traffic to the internet.
 */
'use strict';
const net = require('node:net');

const ALLOWED = new Set(['localhost', '127.0.0.1', '::1', '::ffff:127.0.0.1']);
const isLoopback = host => ALLOWED.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function(...args) {
  let options = args[0];
  if(Array.isArray(options)) {
    // internal form: [options, callback]
    options = options[0];
  }
  let host;
  if(options !== null && typeof options === 'object') {
    if(options.path == null) {
      host = options.host ?? 'localhost';
    }
  } else if(typeof options === 'number' || /^\d+$/.test(String(options))) {
    host = typeof args[1] === 'string' ? args[1] : 'localhost';
  }
  if(host !== undefined && !isLoopback(String(host).replace(/^\[|\]$/g, ''))) {
    const error = new Error(`loopback guard: refusing to connect to ${host} ` +
      '(the conformance run may only talk to the local service)');
    error.code = 'ECONNREFUSED';
    process.nextTick(() => this.destroy(error));
    return this;
  }
  return connect.apply(this, args);
};
