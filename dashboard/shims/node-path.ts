/**
 * `node:path` for the browser bundle: core/crypto/native.ts imports it only to locate the native binding after
 * `require` succeeded, which never happens in a browser (see node-module.ts).
 */
function dirname(_path: string): never {
  throw new Error('node:path is not available in a browser');
}

export default { dirname };
