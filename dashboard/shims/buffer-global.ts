/**
 * Injected into the browser bundle (esbuild `inject`): every free `Buffer` in the bundled code — core's hex and
 * byte helpers use Node's Buffer — becomes this export, the `buffer` package's implementation of the Node API.
 * esbuild resolves 'buffer' to that npm package for the browser platform.
 */
export { Buffer } from 'buffer';
