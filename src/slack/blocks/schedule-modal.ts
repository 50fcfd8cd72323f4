/** The scheduling modal: policy ID, deletion time, what will happen. Pure: no I/O. */
import type { types } from '@slack/bolt';
import type { DiskBackupPolicyDetails, PolicySummary } from '../../katapult/client.js';
import { FORMS } from '../../messages/forms.js';
import { code, dateToken, escapeMrkdwn } from '../../messages/mrkdwn.js';
import { MAX_POLICIES_PER_REQUEST, POLICY_ID_MAX_LENGTH } from '../../scheduling/policy-id.js';
import { visible } from '../../text.js';
import { SCHEDULE_VIEW } from '../ids.js';
import { SLACK_LIMITS } from '../limits.js';
import type { MetadataSigner } from '../platform/signed-metadata.js';
import { clip, context, hint, label, modal, noticeModal, option, placeholder, section } from './common.js';

/** What travels through the modal to the submission: identifiers only. */
export interface ScheduleMetadata {
  /** Where the request's message goes; null: the form's channel picker says (the global shortcut). */
  channelId: string | null;
  /** The thread the request lives in (the message a shortcut was used on). */
  threadTs?: string;
}

const CHANNEL_ID = /^[CDGUW][A-Z0-9]{2,}$/;
const TS = /^\d{1,12}\.\d{1,8}$/;

export function encodeMetadata(meta: ScheduleMetadata): string {
  return JSON.stringify({
    ...(meta.channelId === null ? { p: 1 } : { c: meta.channelId }),
    ...(meta.threadTs ? { t: meta.threadTs } : {}),
  });
}

export function decodeMetadata(raw: string | undefined): ScheduleMetadata | null {
  try {
    const parsed: unknown = JSON.parse(raw ?? '');
    if (typeof parsed !== 'object' || parsed === null) return null;
    const { c, p, t } = parsed as { c?: unknown; p?: unknown; t?: unknown };
    if (t !== undefined && (typeof t !== 'string' || !TS.test(t))) return null;
    const thread = typeof t === 'string' ? { threadTs: t } : {};
    if (p !== undefined) return p === 1 && c === undefined ? { channelId: null, ...thread } : null;
    return typeof c === 'string' && CHANNEL_ID.test(c) ? { channelId: c, ...thread } : null;
  } catch {
    return null;
  }
}

/** The form's state values, as a view submission or a block action carries them. */
type StateValues = Record<string, Record<string, { selected_conversation?: string | null }>>;

/** Where the request's message goes: the metadata's channel, else the one picked in the form (or null). */
export function chosenChannel(meta: ScheduleMetadata, values: StateValues | undefined): string | null {
  if (meta.channelId) return meta.channelId;
  const picked = values?.[SCHEDULE_VIEW.channelBlock]?.[SCHEDULE_VIEW.channelAction]?.selected_conversation;
  return typeof picked === 'string' && CHANNEL_ID.test(picked) ? picked : null;
}

/** The form again (a redraw), as the metadata describes it. */
export const formOf = (meta: ScheduleMetadata): ScheduleModalInput => ({
  channelId: meta.channelId,
  ...(meta.threadTs ? { threadTs: meta.threadTs } : {}),
});

/**
 * The scheduling form's metadata when it verifies: signed for this form, for this workspace
 * (workspaceIdOf the request) and not too old (src/slack/platform/signed-metadata.ts); else why not.
 */
export function readScheduleMetadata(
  deps: { metadata: MetadataSigner; now: () => number },
  sealed: string | undefined,
  workspaceId: string | null,
): { ok: true; meta: ScheduleMetadata } | { ok: false; why: 'too_old' | 'invalid' } {
  const binding = { form: SCHEDULE_VIEW.callbackId, workspaceId: workspaceId ?? '' };
  const opened = deps.metadata.open(sealed, binding, deps.now());
  if (!opened.ok) return opened;
  const meta = decodeMetadata(opened.payload);
  return meta ? { ok: true, meta } : { ok: false, why: 'invalid' };
}

export interface ScheduleModalInput {
  /** Null: the form has a channel picker (the global shortcut). */
  channelId: string | null;
  /** The request lives in this thread (a message shortcut's source message). */
  threadTs?: string;
  /** The picker's channel to start with (the last one the person used). */
  initialChannel?: string;
  /** Policies picked from the start (the IDs a message names). */
  policyIds?: string[];
  /** A note at the top of the form (mrkdwn, already escaped): what was found in the message. */
  notice?: string;
  policyId?: string;
  /** Unix seconds for the date-time picker. */
  initialAt?: number;
  /** Why the time field is empty although the user typed one (shown under the field). */
  whenProblem?: string;
  /** What the chosen policy is, or why it cannot be shown (mrkdwn, already escaped). */
  preview?: string;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The preview of a policy, as shown in the modal: what will be hit, and whether it is already scheduled. */
export function previewText(details: DiskBackupPolicyDetails): string {
  const t = details.target;
  const kind = t.type === 'Disk' ? 'disk' : t.type === 'VirtualMachine' ? 'virtual machine' : 'target';
  const lines = [
    `:mag: *Backs up:* ${kind} ${t.name ? `*${escapeMrkdwn(t.name)}* ` : ''}${t.id ? code(t.id) : ''}`.trim(),
  ];
  const facts: string[] = [];
  if (details.retention !== null)
    facts.push(`keeps ${details.retention} backup${details.retention === 1 ? '' : 's'}`);
  const sch = details.schedule;
  if (sch?.interval) {
    const every =
      sch.frequency && sch.frequency > 1 ? `every ${sch.frequency} × ${sch.interval}` : sch.interval;
    const at = sch.time !== null ? ` at ${pad(sch.time)}:${pad(sch.minute ?? 0)}` : '';
    facts.push(
      `runs ${escapeMrkdwn(every)}${at}${sch.nextInvocationAt ? `, next ${dateToken(sch.nextInvocationAt)}` : ''}`,
    );
  }
  if (details.totalSize !== null) facts.push(`total size ${details.totalSize} (as Katapult reports it)`);
  if (facts.length) lines.push(facts.join(' · '));
  lines.push(
    details.autoMoveToTrashAt
      ? `:warning: Already scheduled to move to the trash on ${dateToken(details.autoMoveToTrashAt)}. Submitting replaces that time.`
      : 'Not scheduled for deletion yet.',
  );
  return lines.join('\n');
}

export const MODAL_EXPLANATION =
  'The policy keeps working until the time you pick. Then Katapult moves it to the trash, where it is kept for a while before it is purged for good.';

export function buildScheduleModal(input: ScheduleModalInput): types.ModalView {
  const pickerInput: types.MultiExternalSelect = {
    type: 'multi_external_select',
    action_id: SCHEDULE_VIEW.pickAction,
    placeholder: placeholder('Search by VM, disk or policy ID'),
    min_query_length: 0,
    max_selected_items: MAX_POLICIES_PER_REQUEST,
    ...(input.policyIds?.length
      ? { initial_options: input.policyIds.map((id) => option(clip(id, POLICY_ID_MAX_LENGTH), id)) }
      : {}),
  };
  const policyInput: types.PlainTextInput = {
    type: 'plain_text_input',
    action_id: SCHEDULE_VIEW.policyAction,
    max_length: POLICY_ID_MAX_LENGTH,
    placeholder: placeholder('e.g. dbp_1kpkjQeMEI43tztr'),
    ...(input.policyId ? { initial_value: clip(input.policyId, POLICY_ID_MAX_LENGTH) } : {}),
  };
  const whenInput: types.DateTimepicker = {
    type: 'datetimepicker',
    action_id: SCHEDULE_VIEW.whenAction,
    ...(input.initialAt !== undefined ? { initial_date_time: Math.trunc(input.initialAt) } : {}),
  };
  return modal({
    callbackId: SCHEDULE_VIEW.callbackId,
    title: 'Schedule deletion',
    submit: 'Schedule',
    close: 'Cancel',
    privateMetadata: encodeMetadata({
      channelId: input.channelId,
      ...(input.threadTs ? { threadTs: input.threadTs } : {}),
    }),
    blocks: [
      section(MODAL_EXPLANATION),
      ...(input.notice ? [context(input.notice)] : []),
      {
        type: 'input',
        block_id: SCHEDULE_VIEW.policyBlock,
        label: label('Disk backup policy ID'),
        // Optional for Slack so the picker can be used instead; the submission checks one is given.
        optional: true,
        dispatch_action: true,
        hint: hint('Press Enter to see what the policy backs up.'),
        element: { ...policyInput, dispatch_action_config: { trigger_actions_on: ['on_enter_pressed'] } },
      },
      {
        type: 'input',
        block_id: SCHEDULE_VIEW.pickBlock,
        label: label('…or pick one or more'),
        optional: true,
        dispatch_action: true,
        hint: hint(
          `Up to ${MAX_POLICIES_PER_REQUEST} policies, all moved to the trash at the same time. Each one is scheduled on its own.`,
        ),
        element: pickerInput,
      },
      ...(input.preview ? [{ ...section(input.preview), block_id: SCHEDULE_VIEW.previewBlock }] : []),
      {
        type: 'input',
        block_id: SCHEDULE_VIEW.whenBlock,
        label: label('Move it to the trash at'),
        hint: hint(
          input.whenProblem ||
            'In your own time zone. At least 6 minutes from now (Katapult needs 5 minutes’ notice).',
        ),
        element: whenInput,
      },
      ...(input.channelId === null ? [channelInput(input.initialChannel)] : []),
      context(
        input.channelId === null
          ? FORMS.postedInPickedChannel
          : input.threadTs
            ? FORMS.postedInThread
            : FORMS.postedInChannel,
      ),
    ],
  });
}

/** The global shortcut's picker of the channel the request's message goes to. */
function channelInput(initial: string | undefined): types.InputBlock {
  return {
    type: 'input',
    block_id: SCHEDULE_VIEW.channelBlock,
    label: label(FORMS.channelLabel),
    hint: hint(FORMS.channelHint),
    element: {
      type: 'conversations_select',
      action_id: SCHEDULE_VIEW.channelAction,
      filter: { include: ['public', 'private'], exclude_bot_users: true },
      ...(initial ? { initial_conversation: initial } : {}),
    },
  };
}

/**
 * One policy in the picker's search: "target name — policy ID" (plain text, invisible controls shown),
 * the name clipped so the ID, which tells two policies on long-named targets apart, always shows.
 */
export function pickerOption(p: PolicySummary): types.PlainTextOption {
  const id = visible(p.id);
  const name = visible(p.target.name ?? p.target.id ?? 'unknown target');
  const room = SLACK_LIMITS.optionText - ' — '.length - id.length;
  // An ID too long to leave a few characters of the name: the ID alone.
  return option(room >= 8 ? `${clip(name, room)} — ${id}` : id, p.id);
}

/** The preview when several policies are picked: what each backs up, as far as the listing knows. */
export function pickedPreviewText(picked: { id: string; name: string | null }[]): string {
  const lines = picked.map((p) => `• ${p.name ? `*${escapeMrkdwn(p.name)}* ` : ''}${code(p.id)}`);
  return `:mag: *${picked.length} policies picked*, each scheduled for the same time:\n${lines.join('\n')}`;
}

/** The scheduling modal turned into a notice (refusal, storage trouble): no inputs, just a close button. */
export const scheduleNoticeView = (text: string): types.ModalView =>
  noticeModal(SCHEDULE_VIEW.callbackId, 'Schedule deletion', text);
