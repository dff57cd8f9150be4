/**
 * Imported first by main.ts, before any schema is built: zod compiles object parsers with `new Function`
 * unless told not to, and the page's Content-Security-Policy (dashboard/src/server.ts) allows no eval — its
 * probe for eval would otherwise log a CSP violation on every load. Interpreted parsing is fast enough here.
 */
import { z } from 'zod';

z.config({ jitless: true });
