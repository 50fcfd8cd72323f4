import type { App } from '@slack/bolt';
import { registerApprovalButtons } from './actions/approval.js';
import { registerPolicyPreview } from './actions/policy-preview.js';
import { registerScheduleButtons } from './actions/reschedule.js';
import { registerRestoreButton } from './actions/restore.js';
import { registerKatapultCommand } from './commands/katapult.js';
import type { ListenerDeps } from './deps.js';
import { registerAppHome } from './events/app-home.js';
import { registerUninstall } from './events/uninstall.js';
import { registerUserChange } from './events/user-change.js';
import { registerScheduleStep } from './functions/schedule-step.js';
import { listenerRouter } from './router.js';
import { registerScheduleShortcuts } from './shortcuts/schedule.js';
import { registerAccessSubmission } from './views/access-submission.js';
import { registerScheduleSubmission } from './views/schedule-submission.js';
import { registerTokenSubmission } from './views/token-submission.js';

export type { ListenerDeps } from './deps.js';

export function registerListeners(bolt: App, deps: ListenerDeps): void {
  // One Bolt listener per kind instead of one per ID (router.ts): Bolt tries every listener per request.
  const app = listenerRouter(bolt);
  registerKatapultCommand(app, deps);
  registerScheduleSubmission(app, deps);
  registerTokenSubmission(app, deps);
  registerAccessSubmission(app, deps);
  registerUninstall(app, deps);
  registerUserChange(app, deps);
  registerAppHome(app, deps);
  registerScheduleButtons(app, deps);
  registerRestoreButton(app, deps);
  registerPolicyPreview(app, deps);
  registerApprovalButtons(app, deps);
  registerScheduleStep(app, deps);
  registerScheduleShortcuts(app, deps);
  app.mount();
}
