/** The scheduling modal: policy ID, deletion time, what will happen. Pure: no I/O. */
import type { types } from '@slack/bolt';
import { POLICY_ID_MAX_LENGTH } from '../../scheduling/policy-id.js';
import { SCHEDULE_VIEW } from '../ids.js';
import { clip, context, noticeModal, plain, section } from './common.js';

/** What travels through the modal to the submission: identifiers only. */
export interface ScheduleMetadata {
  channelId: string;
}

export function encodeMetadata(meta: ScheduleMetadata): string {
  return JSON.stringify({ c: meta.channelId });
}

export function decodeMetadata(raw: string | undefined): ScheduleMetadata | null {
  try {
    const parsed: unknown = JSON.parse(raw ?? '');
    if (typeof parsed !== 'object' || parsed === null) return null;
    const channelId = (parsed as { c?: unknown }).c;
    return typeof channelId === 'string' && /^[CDGUW][A-Z0-9]{2,}$/.test(channelId) ? { channelId } : null;
  } catch {
    return null;
  }
}

export interface ScheduleModalInput {
  channelId: string;
  policyId?: string;
  /** Unix seconds for the date-time picker. */
  initialAt?: number;
  /** Why the time field is empty although the user typed one (shown under the field). */
  whenProblem?: string;
}

export const MODAL_EXPLANATION =
  'The policy keeps working until the time you pick. Then Katapult moves it to the trash, where it is kept for a while before it is purged for good.';

export function buildScheduleModal(input: ScheduleModalInput): types.ModalView {
  const policyInput: types.PlainTextInput = {
    type: 'plain_text_input',
    action_id: SCHEDULE_VIEW.policyAction,
    max_length: POLICY_ID_MAX_LENGTH,
    placeholder: plain('e.g. dbp_1kpkjQeMEI43tztr'),
    ...(input.policyId ? { initial_value: clip(input.policyId, POLICY_ID_MAX_LENGTH) } : {}),
  };
  const whenInput: types.DateTimepicker = {
    type: 'datetimepicker',
    action_id: SCHEDULE_VIEW.whenAction,
    ...(input.initialAt !== undefined ? { initial_date_time: Math.trunc(input.initialAt) } : {}),
  };
  return {
    type: 'modal',
    callback_id: SCHEDULE_VIEW.callbackId,
    title: plain('Schedule deletion'),
    submit: plain('Schedule'),
    close: plain('Cancel'),
    private_metadata: encodeMetadata({ channelId: input.channelId }),
    blocks: [
      section(MODAL_EXPLANATION),
      {
        type: 'input',
        block_id: SCHEDULE_VIEW.policyBlock,
        label: plain('Disk backup policy ID'),
        element: policyInput,
      },
      {
        type: 'input',
        block_id: SCHEDULE_VIEW.whenBlock,
        label: plain('Move it to the trash at'),
        hint: plain(
          input.whenProblem
            ? clip(input.whenProblem, 150)
            : 'In your own time zone. At least 6 minutes from now (Katapult needs 5 minutes’ notice).',
        ),
        element: whenInput,
      },
      context('The result is posted in this channel, so the team sees it.'),
    ],
  };
}

/** The scheduling modal turned into a notice (refusal, storage trouble): no inputs, just a close button. */
export const scheduleNoticeView = (text: string): types.ModalView =>
  noticeModal(SCHEDULE_VIEW.callbackId, 'Schedule deletion', text);
