/** Access policy surfaces: the admin modal, refusals, the policy in words. Pure builders. */
import type { types } from '@slack/bolt';
import {
  type AccessPolicy,
  type ApprovalMode,
  type ApprovalPolicy,
  dailyLimitOf,
  type Who,
} from '../../access/access-policy.js';
import { APPROVALS } from '../../messages/approvals.js';
import { escapeMrkdwn } from '../../messages/mrkdwn.js';
import { WORKFLOW } from '../../messages/workflow.js';
import { ACCESS_VIEW } from '../ids.js';
import { SLACK_LIMITS } from '../limits.js';
import { type Block, context, hint, label, modal, option, placeholder, section } from './common.js';

const WHO_LABELS: Record<Who, string> = {
  admins: 'Only workspace admins and owners',
  groups: 'Members of chosen user groups (and admins)',
  everyone: 'Everyone in the workspace',
};

export function describePolicy(policy: AccessPolicy, groupNames: Map<string, string> = new Map()): string {
  let who: string;
  if (policy.who === 'groups' && policy.groupIds.length > 0) {
    const names = policy.groupIds.map((id) =>
      groupNames.has(id) ? `@${escapeMrkdwn(groupNames.get(id) ?? id)}` : `<!subteam^${id}>`,
    );
    who = `Workspace admins and owners, and members of ${names.join(', ')}`;
  } else {
    who = WHO_LABELS[policy.who === 'groups' ? 'admins' : policy.who];
  }
  const where = policy.channelIds.length
    ? ` may schedule deletions, only in ${policy.channelIds.map((c) => `<#${c}>`).join(', ')}.`
    : ' may schedule deletions, in any channel.';
  const outsiders = [
    policy.allowGuests ? 'guests' : null,
    policy.allowExternal ? 'people from other organizations' : null,
  ]
    .filter((x) => x !== null)
    .join(' and ');
  return `${who}${where} ${outsiders ? `This includes ${outsiders}.` : 'Guests and people from other organizations may not.'}${policy.allowWorkflows ? ` ${WORKFLOW.allowedInWords}` : ''}`;
}

/** The per-person daily limit in words (`limit` null: none). */
export function describeDailyLimit(limit: number | null): string {
  return limit === null
    ? 'There is no limit on how many policies one person may schedule a day.'
    : `One person may schedule at most ${limit} polic${limit === 1 ? 'y' : 'ies'} in any 24 hours.`;
}

/** What the limit field holds: the workspace's own value, or empty for the deployment's default. */
export const dailyLimitText = (value: number | null | undefined): string =>
  value === undefined ? '' : value === null ? 'unlimited' : String(value);

export function describeApproval(
  approval: ApprovalPolicy,
  groupNames: Map<string, string> = new Map(),
): string {
  return APPROVALS.describe(
    approval.mode,
    approval.groupIds.map((id) =>
      groupNames.has(id) ? `@${escapeMrkdwn(groupNames.get(id) ?? id)}` : `<!subteam^${id}>`,
    ),
  );
}

export function refusalText(reason: string, command: string): string {
  const change = `Workspace admins and owners can change who may schedule deletions with \`${command} access\`.`;
  switch (reason) {
    case 'not_admin':
      return `:no_entry: In this workspace only admins and owners may schedule deletions. ${change}`;
    case 'not_in_group':
      return `:no_entry: Only members of the allowed user groups may schedule deletions here. ${change}`;
    case 'channel_not_allowed':
      return `:no_entry: Deletions cannot be scheduled from this channel. ${change}`;
    case 'guest':
      return `:no_entry: Guests may not schedule deletions in this workspace. ${change}`;
    case 'external':
      return `:no_entry: Only members of this workspace may schedule deletions; people from other organizations may not. ${change}`;
    case 'frozen':
      return APPROVALS.refusal('frozen', command);
    case 'workflows_off':
      return WORKFLOW.off(command);
    case 'store_unavailable':
      return ':warning: The bot could not read its storage, so nothing was done. Try again shortly.';
    default:
      return ':warning: Slack did not tell the bot who you are, so nothing was done. Try again in a moment.';
  }
}

export function accessFormView(input: {
  policy: AccessPolicy;
  groups: { id: string; name: string }[];
  problem?: string;
  /** The deployment's per-person daily limit (KATAPULT_MAX_PER_USER_PER_DAY); null: unlimited. */
  defaultLimit?: number | null;
  /** The approval in force (the stored choice, else the deployment's default). */
  approval?: ApprovalPolicy;
}): types.ModalView {
  const { policy, groups } = input;
  const defaultLimit = input.defaultLimit ?? null;
  const approval = input.approval ?? policy.approval ?? { mode: 'off', groupIds: [] };
  const blocks: Block[] = [];
  if (input.problem) blocks.push(section(`:warning: ${input.problem}`));
  const names = new Map(groups.map((g) => [g.id, g.name]));
  blocks.push(
    section(
      `*Now:* ${describePolicy(policy, names)} ${describeDailyLimit(dailyLimitOf(policy, defaultLimit))} ${describeApproval(approval, names)}`,
    ),
  );
  blocks.push(whoInput(policy));
  blocks.push(
    groups.length > 0
      ? groupsInput(
          { block: ACCESS_VIEW.groupsBlock, action: ACCESS_VIEW.groupsAction },
          { label: 'User groups', hint: 'Used when “Members of chosen user groups” is picked.' },
          groups,
          policy.groupIds,
        )
      : context('This workspace has no user groups, so the group option works once one exists.'),
  );
  blocks.push(channelsInput(policy), outsidersInput(policy), limitInput(policy, defaultLimit));
  blocks.push(approvalInput(approval), workflowsInput(policy));
  if (groups.length > 0) {
    blocks.push(
      groupsInput(
        { block: ACCESS_VIEW.approversBlock, action: ACCESS_VIEW.approversAction },
        { label: APPROVALS.approversLabel, hint: APPROVALS.approversHint },
        groups,
        approval.groupIds,
      ),
    );
  }
  return modal({
    callbackId: ACCESS_VIEW.callbackId,
    title: 'Who may schedule',
    submit: 'Save',
    close: 'Cancel',
    blocks,
  });
}

/**
 * The groups as options and the chosen ones among them. Slack shows at most 100 options: the
 * chosen groups come first so saving never drops one.
 */
function groupChoice(
  groups: { id: string; name: string }[],
  chosenIds: string[],
): { options: types.PlainTextOption[]; selected: types.PlainTextOption[] } {
  const chosen = (id: string) => Number(chosenIds.includes(id));
  const options = [...groups]
    .sort((a, b) => chosen(b.id) - chosen(a.id))
    .slice(0, SLACK_LIMITS.selectOptions)
    .map((g) => option(g.name || g.id, g.id));
  return { options, selected: options.filter((o) => chosenIds.includes(o.value ?? '')) };
}

const whoOption = (who: Who) => option(WHO_LABELS[who], who);

function whoInput(policy: AccessPolicy): Block {
  return {
    type: 'input',
    block_id: ACCESS_VIEW.whoBlock,
    label: label('Who may schedule deletions'),
    element: {
      type: 'radio_buttons',
      action_id: ACCESS_VIEW.whoAction,
      options: [whoOption('admins'), whoOption('groups'), whoOption('everyone')],
      initial_option: whoOption(policy.who),
    },
  };
}

/** A pick of user groups (who may schedule, who may approve), the chosen ones selected. */
function groupsInput(
  ids: { block: string; action: string },
  text: { label: string; hint: string },
  groups: { id: string; name: string }[],
  chosenIds: string[],
): Block {
  const { options, selected } = groupChoice(groups, chosenIds);
  return {
    type: 'input',
    block_id: ids.block,
    optional: true,
    label: label(text.label),
    hint: hint(text.hint),
    element: {
      type: 'multi_static_select',
      action_id: ids.action,
      placeholder: placeholder('Choose groups'),
      options,
      ...(selected.length ? { initial_options: selected } : {}),
    },
  };
}

function channelsInput(policy: AccessPolicy): Block {
  return {
    type: 'input',
    block_id: ACCESS_VIEW.channelsBlock,
    optional: true,
    label: label('Only in these channels'),
    hint: hint('Leave empty to allow any channel. Applies to admins too.'),
    element: {
      type: 'multi_conversations_select',
      action_id: ACCESS_VIEW.channelsAction,
      placeholder: placeholder('Any channel'),
      filter: { include: ['public', 'private'], exclude_bot_users: true },
      ...(policy.channelIds.length ? { initial_conversations: policy.channelIds } : {}),
    },
  };
}

function outsidersInput(policy: AccessPolicy): Block {
  const outsider = (value: string, text: string): types.Option => option(text, value);
  const outsiders = [
    outsider(ACCESS_VIEW.allowGuestsValue, 'Guests (single- and multi-channel)'),
    outsider(ACCESS_VIEW.allowExternalValue, 'People from other organizations (Slack Connect)'),
  ];
  const allowed = outsiders.filter((o) =>
    o.value === ACCESS_VIEW.allowGuestsValue ? policy.allowGuests : policy.allowExternal,
  );
  return {
    type: 'input',
    block_id: ACCESS_VIEW.outsidersBlock,
    optional: true,
    label: label('Also allow'),
    hint: hint('Otherwise they are refused, whatever is chosen above.'),
    element: {
      type: 'checkboxes',
      action_id: ACCESS_VIEW.outsidersAction,
      options: outsiders,
      ...(allowed.length ? { initial_options: allowed } : {}),
    },
  };
}

function limitInput(policy: AccessPolicy, defaultLimit: number | null): Block {
  const limitValue = dailyLimitText(policy.maxPerUserPerDay);
  return {
    type: 'input',
    block_id: ACCESS_VIEW.limitBlock,
    optional: true,
    label: label('Most policies one person may schedule in 24 hours'),
    hint: hint(
      `A whole number, or “unlimited”. Empty: this deployment’s default (${dailyLimitText(defaultLimit) || 'unlimited'}). Refused and failed schedules do not count.`,
    ),
    element: {
      type: 'plain_text_input',
      action_id: ACCESS_VIEW.limitAction,
      max_length: 16,
      placeholder: placeholder(dailyLimitText(defaultLimit) || 'unlimited'),
      ...(limitValue ? { initial_value: limitValue } : {}),
    },
  };
}

const modeOption = (mode: ApprovalMode) => option(APPROVALS.modeLabels[mode], mode);

function approvalInput(approval: ApprovalPolicy): Block {
  return {
    type: 'input',
    block_id: ACCESS_VIEW.approvalBlock,
    label: label(APPROVALS.approvalLabel),
    hint: hint(APPROVALS.approvalHint),
    element: {
      type: 'radio_buttons',
      action_id: ACCESS_VIEW.approvalAction,
      options: [modeOption('off'), modeOption('admins'), modeOption('groups')],
      initial_option: modeOption(approval.mode),
    },
  };
}

/** "Allow Workflow Builder steps": off unless an admin ticks it (issue 21, item 4). */
function workflowsInput(policy: AccessPolicy): Block {
  const allow = option(WORKFLOW.allowLabel, ACCESS_VIEW.allowWorkflowsValue);
  return {
    type: 'input',
    block_id: ACCESS_VIEW.workflowsBlock,
    optional: true,
    label: label('Workflow Builder'),
    hint: hint(WORKFLOW.allowHint),
    element: {
      type: 'checkboxes',
      action_id: ACCESS_VIEW.workflowsAction,
      options: [allow],
      ...(policy.allowWorkflows ? { initial_options: [allow] } : {}),
    },
  };
}
