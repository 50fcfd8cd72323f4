/** The admin modal for the workspace's Katapult token. Pure: no I/O. Never contains the token itself. */
import type { types } from '@slack/bolt';
import { code, dateToken, escapeMrkdwn } from '../../messages/mrkdwn.js';
import type { TokenStatus } from '../../store/token-store.js';
import { TOKEN_VIEW } from '../ids.js';
import {
  ADMINS_ONLY,
  type Block,
  context,
  hint,
  label,
  modal,
  noticeModal,
  option,
  placeholder,
  section,
} from './common.js';

const notice = (text: string) => noticeModal(TOKEN_VIEW.callbackId, 'Katapult API token', text);

export const tokenRefusedView = () =>
  notice(ADMINS_ONLY("set or remove this workspace's Katapult API token"));
export const tokenCheckingView = () =>
  notice(':hourglass_flowing_sand: Checking the token with Katapult… this takes a moment.');
export const tokenDoneView = notice;

export function statusText(status: TokenStatus | null, fallback: boolean): string {
  if (status) {
    const org = status.organizationName ? ` for ${escapeMrkdwn(status.organizationName)}` : '';
    return `A token${org} is set, ending in ${code(status.last4)}. <@${status.setBy}> set it on ${dateToken(status.setAt)}.`;
  }
  if (fallback)
    return "No token is stored for this workspace; the bot's deployment-wide token (KATAPULT_API_TOKEN) is used.";
  return 'No token is set yet, so nobody here can schedule deletions.';
}

export function tokenFormView(input: {
  status: TokenStatus | null;
  fallback: boolean;
  problem?: string;
}): types.ModalView {
  const blocks: Block[] = [];
  if (input.problem) blocks.push(section(`:warning: ${input.problem}`));
  blocks.push(section(statusText(input.status, input.fallback)));
  blocks.push({
    type: 'input',
    block_id: TOKEN_VIEW.tokenBlock,
    optional: input.status !== null,
    label: label(input.status ? 'Replace it with a new token' : 'Katapult API token'),
    hint: hint(
      'Create one in Katapult under API tokens, with the disk_backup_policies scope (and organizations:read). It is checked with Katapult, then stored encrypted.',
    ),
    element: {
      type: 'plain_text_input',
      action_id: TOKEN_VIEW.tokenAction,
      min_length: 8,
      max_length: 512,
      placeholder: placeholder('Paste the token'),
    },
  });
  if (input.status) {
    blocks.push({
      type: 'input',
      block_id: TOKEN_VIEW.removeBlock,
      optional: true,
      label: label('Remove'),
      element: {
        type: 'checkboxes',
        action_id: TOKEN_VIEW.removeAction,
        options: [option('Remove the stored token', TOKEN_VIEW.removeValue)],
      },
    });
  }
  blocks.push(
    context(
      'Only workspace admins and owners see this. The token is never shown again, only its last four characters.',
    ),
  );
  return modal({
    callbackId: TOKEN_VIEW.callbackId,
    title: 'Katapult API token',
    submit: 'Save',
    close: 'Cancel',
    blocks,
  });
}
