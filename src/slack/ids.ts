/** Every callback, block and action ID the bot uses, in one place. Builders and listeners import these. */
export const SCHEDULE_VIEW = {
  callbackId: 'katapult_schedule',
  policyBlock: 'policy_id',
  policyAction: 'policy_id_input',
  whenBlock: 'when',
  whenAction: 'when_input',
  pickBlock: 'policy_pick',
  pickAction: 'policy_pick_input',
  previewBlock: 'preview',
  /** The global shortcut's form: where the request's message goes. */
  channelBlock: 'where',
  channelAction: 'where_input',
} as const;

/** The shortcuts declared in the manifests (features.shortcuts). */
export const SHORTCUTS = {
  /** On a message: "Schedule deletion…", filled with the policy IDs the message names. */
  fromMessage: 'schedule_from_message',
  /** From anywhere: "Schedule a disk backup policy deletion", with a channel picker. */
  global: 'schedule_global',
} as const;

export const TOKEN_VIEW = {
  callbackId: 'katapult_token',
  tokenBlock: 'token',
  tokenAction: 'token_input',
  removeBlock: 'remove',
  removeAction: 'remove_input',
  removeValue: 'remove',
} as const;

export const ACCESS_VIEW = {
  callbackId: 'katapult_access',
  whoBlock: 'who',
  whoAction: 'who_input',
  groupsBlock: 'groups',
  groupsAction: 'groups_input',
  channelsBlock: 'channels',
  channelsAction: 'channels_input',
  outsidersBlock: 'outsiders',
  outsidersAction: 'outsiders_input',
  allowGuestsValue: 'guests',
  allowExternalValue: 'external',
  limitBlock: 'daily_limit',
  limitAction: 'daily_limit_input',
  approvalBlock: 'approval',
  approvalAction: 'approval_input',
  approversBlock: 'approvers',
  approversAction: 'approvers_input',
  // Workflow Builder step (issue 21, item 4).
  workflowsBlock: 'workflows',
  workflowsAction: 'workflows_input',
  allowWorkflowsValue: 'workflows',
} as const;

/** The Deny button's modal (an optional reason); its private_metadata is the signed record ID. */
export const DENY_VIEW = {
  callbackId: 'katapult_deny',
  reasonBlock: 'reason',
  reasonAction: 'reason_input',
} as const;

/** Buttons on messages and the App Home. Each carries the policy ID as its value. */
export const ACTIONS = {
  /** In App Home its block names the deletion's channel too (blocks/home.ts, rescheduleChannelOf). */
  reschedule: 'katapult_reschedule',
  restore: 'katapult_restore',
  openSchedule: 'katapult_open_schedule',
  /** App Home: the value is the offset of the upcoming deletions' page. */
  homePage: 'katapult_home_page',
  /** On a request for approval: the value is the request record's ID, nothing else. */
  approve: 'katapult_approve',
  deny: 'katapult_deny',
} as const;

/**
 * The Workflow Builder step (issue 21, item 4): its `callback_id` and the names of its input and
 * output parameters, as manifest.yml and manifest.oauth.yml declare them under `functions`.
 */
export const WORKFLOW_STEP = {
  callbackId: 'schedule_policy_deletion',
  policyIdsInput: 'policy_ids',
  moveAtInput: 'move_at',
  requesterInput: 'requester',
  channelInput: 'channel',
  scheduledAtOutput: 'scheduled_at',
  outcomesOutput: 'outcomes',
} as const;
