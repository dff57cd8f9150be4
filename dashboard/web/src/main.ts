/**
 * The dashboard page: every 2 s it reads the server's status, buffer history and recent assignments
 * (dashboard/src/api.ts) and redraws; the login demo runs on request (login.ts).
 */
import './zod-config.js';
import { AssignmentsAnswer, BufferHistoryAnswer, StatusAnswer } from '../../src/api.js';
import { getJson } from './api-client.js';
import { renderBufferChart } from './chart.js';
import { byId } from './dom.js';
import { setUpLoginDemo } from './login.js';
import { renderAssignments, renderStatus, showBanner } from './render.js';

const REFRESH_MS = 2000;

async function refresh(): Promise<void> {
  try {
    const [status, history, assignments] = await Promise.all([
      getJson('api/status', StatusAnswer),
      getJson('api/buffer', BufferHistoryAnswer),
      getJson('api/assignments', AssignmentsAnswer),
    ]);
    const now = Date.now();
    renderStatus(status, now);
    renderBufferChart(byId('buffer-chart', SVGSVGElement), history.samples, now);
    renderAssignments(assignments, now);
    document.body.dataset['refreshed'] = String(now);
  } catch (err) {
    showBanner(err instanceof Error ? err.message : String(err));
  }
}

function loop(): void {
  void refresh().finally(() => setTimeout(loop, REFRESH_MS));
}

setUpLoginDemo();
loop();
