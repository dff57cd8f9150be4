/**
 * Runtime gaps between Node 20 and the libraries we depend on. libp2p 2.x pulls in `it-queue` (through
 * mortice and its peer store), which calls `Promise.withResolvers`, a Node >= 22 built-in. On Node 20 we
 * install a spec-equivalent version; on 22/24 the built-in stays. Import this module before libp2p.
 */

interface WithResolvers {
  withResolvers<T>(): { promise: Promise<T>; resolve: (value: T | PromiseLike<T>) => void; reject: (reason?: unknown) => void };
}

const promiseConstructor = Promise as unknown as Partial<WithResolvers>;
if (typeof promiseConstructor.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>(this: PromiseConstructor) {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new this<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

export {};
