/**
 * uWebSockets.js comes from an npm alias that, when its native binary does not load (another Node ABI, a
 * libc it was not built for) or UWS_USE_FALLBACK is set, silently returns a pure-JavaScript server built on
 * `ws` with only a console warning. That server is several times slower and would make every latency figure
 * a lie, so the engine refuses to start on it unless told otherwise (--allow-js-fallback).
 */
import uWS from 'uWebSockets.js';

export function uwsIsNative(): boolean {
  // The native addon's functions are C++ bindings; the fallback's are ordinary JavaScript functions.
  return typeof uWS.us_listen_socket_close === 'function' && /\[native code\]/.test(Function.prototype.toString.call(uWS.us_listen_socket_close));
}
